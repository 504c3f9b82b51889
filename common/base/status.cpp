#include "common/base/status.h"

#include <array>

namespace tenure {

namespace {
constexpr std::array<std::string_view, 8> kNames = {"ok",       "transient", "permission", "data",
                                                    "conflict", "config",    "not_found",  "internal"};
}

std::string_view errorClassName(ErrorClass c) { return kNames[static_cast<size_t>(c)]; }

std::optional<ErrorClass> errorClassFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ErrorClass>(i);
  }
  return std::nullopt;
}

const std::string& Status::message() const {
  static const std::string kNone;
  return rep_ ? rep_->message : kNone;
}

std::string Status::toString() const {
  if (isOk()) return "ok";
  std::string s(errorClassName(rep_->cls));
  s += ": ";
  s += rep_->message;
  if (rep_->native_code != 0) s += " (code " + std::to_string(rep_->native_code) + ")";
  return s;
}

Status Status::withContext(std::string_view context) const {
  if (isOk()) return *this;
  return Status(rep_->cls, std::string(context) + ": " + rep_->message, rep_->native_code);
}

}  // namespace tenure
