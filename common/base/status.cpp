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

std::string Status::toString() const {
  if (isOk()) return "ok";
  std::string s(errorClassName(cls_));
  s += ": ";
  s += message_;
  if (native_code_ != 0) s += " (code " + std::to_string(native_code_) + ")";
  return s;
}

Status Status::withContext(std::string_view context) const {
  if (isOk()) return *this;
  return Status(cls_, std::string(context) + ": " + message_, native_code_);
}

}  // namespace tenure
