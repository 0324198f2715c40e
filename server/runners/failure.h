// How a runner reports that an effect failed: the error name and message a JavaScript runner would
// throw (PROTOCOL.md "Results": C++ sees "<name>: <message>"). Runners throw `failure`; each host
// catches it at its effect boundary and turns it into an {"ok":false,"error":{name,message}} outcome.
#pragma once

#include <string>
#include <utility>

namespace pb::runners {

struct failure {
  std::string name;
  std::string message;
};

[[noreturn]] inline void fail(std::string name, std::string message) { throw failure{std::move(name), std::move(message)}; }

}  // namespace pb::runners
