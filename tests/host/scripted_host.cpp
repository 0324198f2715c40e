#include "host/scripted_host.h"

namespace pb::testing {

scripted_host& scripted_host::expect(std::string op, json reply, check_fn check) {
  steps_.push_back(step{std::move(op), std::move(reply), std::nullopt, std::move(check)});
  return *this;
}

scripted_host& scripted_host::expect_error(std::string op, std::string name, std::string message, check_fn check) {
  steps_.push_back(step{std::move(op), json(), effect_error{std::move(name), std::move(message)}, std::move(check)});
  return *this;
}

json scripted_host::perform(const json& effect, std::optional<effect_error>& err) {
  std::string op(effect["op"].as_string());
  if (next_ >= steps_.size()) {
    failures.push_back("unexpected extra effect " + effect.dump());
    err = effect_error{"ScriptError", "no step left"};
    return json();
  }
  const step& s = steps_[next_++];
  if (s.op != op) {
    failures.push_back("step " + std::to_string(next_) + ": expected " + s.op + ", got " + effect.dump());
  } else if (s.check) {
    if (std::string why = s.check(effect); !why.empty())
      failures.push_back("step " + std::to_string(next_) + " (" + op + "): " + why);
  }
  if (s.error) {
    err = s.error;
    return json();
  }
  return s.reply;
}

scripted_host::check_fn has_field(std::string key, json value) {
  return [key, value](const json& effect) -> std::string {
    if (effect[key] == value) return {};
    return key + " is " + effect[key].dump() + ", expected " + value.dump();
  };
}

}  // namespace pb::testing
