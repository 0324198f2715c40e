#include "http/message.h"

#include "core/json.h"

namespace pb::http {

response response::json_body(int status, std::string body) {
  response r;
  r.status = status;
  r.header_list.set("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

response response::text(int status, std::string body, std::string_view content_type) {
  response r;
  r.status = status;
  r.header_list.set("content-type", content_type);
  r.body = std::move(body);
  return r;
}

response error_response(const error& e) {
  json_writer w;
  w.begin_object().key("error").begin_object();
  w.field("code", error_code_name(e.code)).field("message", e.message);
  w.end_object().end_object();
  response r = response::json_body(e.http_status(), std::move(w).str());
  r.header_list.set("cache-control", "no-store");
  return r;
}

response error_response(error_code code, std::string message) { return error_response(make_error(code, std::move(message))); }

response private_error_response(error_code code, std::string plain_message, std::string internal) {
  response r = error_response(code, std::move(plain_message));
  r.log_note = std::move(internal);
  return r;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

}  // namespace pb::http
