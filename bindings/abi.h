// The ABI of bindings/exports.cpp as C++ declarations, for native hosts that link the core directly
// (the test hosts and the self-hosted server); the Worker's shim calls the same functions in wasm.
// PROTOCOL.md "ABI" says what each does. pb_reset_caches and pb_invalidate exist natively only.
#pragma once

#include <cstdint>

extern "C" {
int pb_protocol_version();
int pb_configure(const char* doc, std::uint32_t len);
char* pb_alloc(std::uint32_t len);
void pb_free(char* p);
const char* pb_warm_headers();
std::uint32_t pb_start(const char* doc, std::uint32_t len);
int pb_state(std::uint32_t id);
int pb_resume(std::uint32_t id, const char* doc, std::uint32_t len);
const char* pb_out_ptr(std::uint32_t id);
std::uint32_t pb_out_len(std::uint32_t id);
const char* pb_out_body_ptr(std::uint32_t id);
std::uint32_t pb_out_body_len(std::uint32_t id);
void pb_finish(std::uint32_t id);
void pb_reset_caches();
int pb_invalidate(const char* doc, std::uint32_t len);
}
