#pragma once
// The naming template language of the policy (docs/policy.md, "Templates"): compiled once,
// evaluated per person. Pure functions; uniqueness against the directory and tombstones is the
// caller's job.
//
// How a caller derives one person's names (each rule may use the names computed before it):
//   1. ctx.computed = {upn_suffix, mail_domain}
//   2. display_name = applyRule(naming.display_name)           -> ctx.computed["display_name"]
//   3. base = applyRule(naming.sam_account_name); try numberedCandidate(rule, base, 1, 2, ...)
//      until one is free                                        -> ctx.computed["sam_account_name"]
//   4. upn = applyRule(naming.user_principal_name)
//      (a taken UPN means: try the next sAMAccountName)
//   5. local = applyRule(naming.mail); try numberedCandidate(rule, local, n) + "@" + mail_domain
//   6. cn = applyRule(naming.cn)
// parsePolicy() / validatePolicy() reject templates that reference a name computed later.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/hr/hr_record.h"
#include "common/policy/policy.h"

namespace tenure::policy {

// The values a template can see: the HR record's fields and the computed names.
struct NameContext {
  const hr::HrRecord* record = nullptr;
  // sam_account_name, display_name, upn_suffix, mail_domain (a missing key reads as "").
  // Transparent: a template's field lookup needs no key copy.
  std::map<std::string, std::string, std::less<>> computed;
  // Consulted after `computed`: values shared by every person of a job (upn_suffix,
  // mail_domain), so that each person's context need not copy them. Optional.
  const std::map<std::string, std::string, std::less<>>* shared = nullptr;
  // display_name and sam_account_name by reference, consulted before `computed` when set: the
  // lifecycle engine names every person of a job with a context of their own, and two map nodes
  // per person showed in profiles (docs/benchmarks.md).
  const std::string* display_name = nullptr;
  const std::string* sam_account_name = nullptr;
};

// One node of a compiled expression.
struct TemplateExpr {
  enum class Kind { kText, kNumber, kField, kCall };
  Kind kind = Kind::kText;
  std::string text;                // literal text, field name or function name
  int number = 0;                  // kNumber
  std::vector<TemplateExpr> args;  // kCall
  // Resolved when the template is compiled, so that evaluating it looks no name up: the record
  // member a kField names (null for custom and computed fields) and the function a kCall names.
  std::string hr::HrRecord::*member = nullptr;
  int function = -1;  // index into the function table (name_template.cpp)
};

// A parsed template: literal text and `{expr}` parts, in order.
class CompiledTemplate {
 public:
  std::string evaluate(const NameContext& ctx) const;
  // The same, appended to `out`.
  void appendTo(const NameContext& ctx, std::string& out) const;
  // Every field the template reads ("given_name", "custom.cost_center", "sam_account_name", ...).
  std::vector<std::string> fields() const;
  bool references(std::string_view field) const;
  const std::string& source() const { return source_; }

 private:
  friend Result<CompiledTemplate> compileTemplate(std::string_view text);
  std::string source_;
  std::vector<TemplateExpr> parts_;
};

// Parses a template. Errors are class data and name the 1-based character (code point) position:
// `at character 3: unknown function "frist"`.
Result<CompiledTemplate> compileTemplate(std::string_view text);

// The transforms a NameRule may list, in the order documented in policy.h.
bool isKnownTransform(std::string_view name);
std::string applyTransform(std::string_view name, std::string_view value);

// A NameRule with its templates compiled, for callers that name many people with one policy.
struct CompiledNameRule {
  NameRule rule;
  CompiledTemplate value;
  std::optional<CompiledTemplate> fallback;  // absent when the rule has no fallback template
};
Result<CompiledNameRule> compileRule(const NameRule& rule);

// template -> transforms -> max_length (cut at a code point boundary); when that is empty, the
// same for the fallback template. May be empty when the fallback is empty too.
std::string applyRule(const CompiledNameRule& rule, const NameContext& ctx);
// Compiles and applies in one step (compile errors are returned).
Result<std::string> applyRule(const NameRule& rule, const NameContext& ctx);

// Candidate n (1-based) for the uniqueness clause: base, base2, base3, ... Each stays within the
// rule's max_length by cutting the base (at a code point boundary), never the number. For mail the
// rule yields the local part, so the number lands before the '@' the caller appends.
std::string numberedCandidate(const NameRule& rule, std::string_view base, int n);
// The same, appended to `out`.
void appendNumberedCandidate(const NameRule& rule, std::string_view base, int n, std::string& out);

// Unicode-aware helpers used by the template functions (exposed for the lifecycle engine and
// tests). First / last n code points.
std::string firstCodePoints(std::string_view s, size_t n);
std::string lastCodePoints(std::string_view s, size_t n);
// Case mapping of ASCII and the Latin letters U+00C0..U+017F; other characters unchanged.
std::string toLowerLatin(std::string_view s);
std::string toUpperLatin(std::string_view s);

}  // namespace tenure::policy
