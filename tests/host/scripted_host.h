// scripted_host: a host that expects an exact sequence of effects and answers each with a canned reply
// (or error). A test reads like the effect sequence it expects; mismatches are collected in `failures`
// and the test asserts that list is empty and every step was used.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "host/abi.h"

namespace pb::testing {

class scripted_host final : public host {
 public:
  scripted_host() { pb_reset_caches(); }  // a new host is a new isolate: nothing cached
  using check_fn = std::function<std::string(const json& effect)>;  // returns "" when the effect is right

  // Expects the next effect to have this op; replies with `reply`.
  scripted_host& expect(std::string op, json reply, check_fn check = {});
  // Expects the next effect to have this op; makes it fail like a JS exception.
  scripted_host& expect_error(std::string op, std::string name, std::string message, check_fn check = {});

  json perform(const json& effect, std::optional<effect_error>& err) override;

  bool all_used() const { return next_ == steps_.size(); }
  std::vector<std::string> failures;

 private:
  struct step {
    std::string op;
    json reply;
    std::optional<effect_error> error;
    check_fn check;
  };
  std::vector<step> steps_;
  std::size_t next_ = 0;
};

// A check that the effect has a member equal to `value`.
scripted_host::check_fn has_field(std::string key, json value);

}  // namespace pb::testing
