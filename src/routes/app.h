// The entry points the driver runs: handle_fetch (an HTTP request, dispatched through the route table in
// routes.cpp), handle_scheduled (a cron trigger) and handle_queue (a batch of sync queue messages).
// Route families live in their own files.
#pragma once

#include <optional>

#include "bindings/task.h"
#include "http/message.h"
#include "routes/context.h"

namespace pb::routes {

// A response with status 0 means the handler already sent its response with fx::respond.
task<http::response> handle_fetch(request_context& ctx);
// handle_fetch's answer without a coroutine when the matched route has a warm path that can answer from
// the isolate's memory; nullopt: run handle_fetch (nothing was changed but ctx.params).
std::optional<http::response> answer_warm(request_context& ctx);
// Every request header a warm path reads ('\n'-separated, lower case): answer_warm gives the same answer
// when the request carries only these (hosts may hand over just them first, PROTOCOL.md "Start").
inline constexpr const char* warm_header_names = "authorization\nif-modified-since";
task<std::monostate> handle_scheduled(request_context& ctx);
// Returns the messages to deliver again: [{"id","delay_s"}] (PROTOCOL.md, "Finish").
task<json_array> handle_queue(request_context& ctx);

// The route table's pattern that answers this method and path (e.g. "/p2/{vendor}/{file}"), or ""
// when none does: a label of bounded cardinality for a host's metrics.
std::string_view route_pattern(std::string_view method, std::string_view path);

}  // namespace pb::routes
