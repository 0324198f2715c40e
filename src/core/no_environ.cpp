// getenv for the wasm build: the Worker has no process environment. simdjson asks getenv whether an
// implementation is forced; with link-time optimization libc's getenv brings WASI's environ imports
// and a start-up constructor into every module for an answer that is always "not set".
#if defined(__EMSCRIPTEN__)
extern "C" char* getenv(const char*) { return nullptr; }
#endif
