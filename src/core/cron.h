// How often a cron expression fires, for /health's "the cron trigger has not run for two intervals".
// Only the shapes a deployment uses are recognised exactly; anything else counts as daily, so an
// unusual schedule can make /health late to notice, never wrongly alarmed.
#pragma once

#include <cstdint>
#include <string_view>

namespace pb {

// Milliseconds between two runs of a five-field cron expression ("*/15 * * * *" -> 900000).
std::int64_t cron_interval_ms(std::string_view expression);

}  // namespace pb
