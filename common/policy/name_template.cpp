#include "common/policy/name_template.h"

#include <algorithm>
#include <array>

#include "common/base/transliterate.h"
#include "common/base/utf8.h"

namespace tenure::policy {

namespace {

// Nearly every name is ASCII: each byte is then one code point, so the UTF-8 walks below reduce
// to byte operations (the walks were a fifth of planning time, docs/benchmarks.md).
bool asciiOnly(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}


constexpr std::string_view kComputedFields[] = {"sam_account_name", "display_name", "upn_suffix",
                                                "mail_domain"};
constexpr std::string_view kCustomPrefix = "custom.";
constexpr size_t kMaxTemplateBytes = 1024;

// TemplateExpr::function: the index of the function in kFunctions.
enum Function { kCoalesce, kFirst, kLast, kLower, kUpper, kAscii, kAlnum, kStrip, kReplace, kTrim };

struct FunctionSpec {
  std::string_view name;
  size_t min_args;
  size_t max_args;  // SIZE_MAX: variadic
};

constexpr std::array<FunctionSpec, 10> kFunctions = {{
    {"coalesce", 1, SIZE_MAX},
    {"first", 2, 2},
    {"last", 2, 2},
    {"lower", 1, 1},
    {"upper", 1, 1},
    {"ascii", 1, 1},
    {"alnum", 1, 1},
    {"strip", 2, 2},
    {"replace", 3, 3},
    {"trim", 1, 1},
}};
static_assert(kFunctions[kTrim].name == "trim" && kFunctions[kStrip].name == "strip");

const FunctionSpec* findFunction(std::string_view name) {
  for (const auto& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool isKnownField(std::string_view name) {
  if (name.starts_with(kCustomPrefix)) return name.size() > kCustomPrefix.size();
  if (hr::canonicalField(name) != nullptr) return true;
  return std::find(std::begin(kComputedFields), std::end(kComputedFields), name) !=
         std::end(kComputedFields);
}

bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool isIdentChar(char c) { return isIdentStart(c) || (c >= '0' && c <= '9'); }
bool isCustomNameChar(char c) { return isIdentChar(c) || c == '-' || c == '.'; }
bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<std::vector<TemplateExpr>> parseTemplate() {
    std::vector<TemplateExpr> parts;
    std::string text;
    auto flushText = [&] {
      if (text.empty()) return;
      parts.push_back(TemplateExpr{.kind = TemplateExpr::Kind::kText, .text = std::move(text)});
      text.clear();
    };
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '{' && peek(1) == '{') {
        text += '{';
        i_ += 2;
      } else if (c == '}' && peek(1) == '}') {
        text += '}';
        i_ += 2;
      } else if (c == '}') {
        return error("a literal } is written }}");
      } else if (c == '{') {
        const size_t open = i_;
        ++i_;
        skipSpace();
        if (peek(0) == '}') return error("empty {}");
        ASSIGN_OR_RETURN(TemplateExpr e, parseExpr());
        if (e.kind == TemplateExpr::Kind::kNumber) {
          return errorAt(open + 1, "a number is only allowed as the count of first() or last()");
        }
        skipSpace();
        if (i_ >= s_.size()) return errorAt(open, "{ is never closed");
        if (s_[i_] != '}') return error("expected } here");
        ++i_;
        flushText();
        parts.push_back(std::move(e));
      } else {
        text += c;
        ++i_;
      }
    }
    flushText();
    return parts;
  }

 private:
  char peek(size_t ahead) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
  void skipSpace() {
    while (i_ < s_.size() && isSpace(s_[i_])) ++i_;
  }
  Status errorAt(size_t byte_pos, std::string_view reason) const {
    const size_t pos = utf8Length(s_.substr(0, std::min(byte_pos, s_.size()))) + 1;
    return dataError("at character " + std::to_string(pos) + ": " + std::string(reason));
  }
  Status error(std::string_view reason) const { return errorAt(i_, reason); }

  Result<TemplateExpr> parseExpr() {
    // Templates come from tenant uploads: bound the recursion.
    if (depth_ >= kMaxDepth) return error("functions are nested too deeply");
    ++depth_;
    auto e = parseExprInner();
    --depth_;
    return e;
  }

  Result<TemplateExpr> parseExprInner() {
    skipSpace();
    if (i_ >= s_.size()) return error("expected a field, function or \"text\"; the template ends");
    const char c = s_[i_];
    if (c == '"') return parseString();
    if (c >= '0' && c <= '9') return parseNumber();
    if (!isIdentStart(c)) {
      return error(std::string("expected a field, function or \"text\", found '") + c + "'");
    }
    const size_t start = i_;
    while (i_ < s_.size() && isIdentChar(s_[i_])) ++i_;
    std::string name(s_.substr(start, i_ - start));
    if (name == "custom" && peek(0) == '.') {
      ++i_;
      const size_t name_start = i_;
      while (i_ < s_.size() && isCustomNameChar(s_[i_])) ++i_;
      if (i_ == name_start) return error("expected the custom field's name after \"custom.\"");
      name += "." + std::string(s_.substr(name_start, i_ - name_start));
    }
    const size_t after_name = i_;
    skipSpace();
    if (peek(0) != '(') {
      i_ = after_name;
      if (!isKnownField(name)) return errorAt(start, "unknown field \"" + name + "\"");
      std::string hr::HrRecord::*member =
          name.starts_with(kCustomPrefix) ? nullptr : hr::canonicalField(name);
      return TemplateExpr{
          .kind = TemplateExpr::Kind::kField, .text = std::move(name), .member = member};
    }
    const FunctionSpec* fn = findFunction(name);
    if (fn == nullptr) return errorAt(start, "unknown function \"" + name + "\"");
    ++i_;  // (
    TemplateExpr call{.kind = TemplateExpr::Kind::kCall,
                      .text = name,
                      .function = static_cast<int>(fn - kFunctions.data())};
    skipSpace();
    if (peek(0) == ')') {
      ++i_;
    } else {
      while (true) {
        skipSpace();
        const size_t arg_start = i_;
        ASSIGN_OR_RETURN(TemplateExpr arg, parseExpr());
        const bool count_arg = (name == "first" || name == "last") && call.args.size() == 1;
        if (count_arg != (arg.kind == TemplateExpr::Kind::kNumber)) {
          return errorAt(arg_start,
                         count_arg ? name + "() takes a number of characters as its second argument"
                                   : "a number is only allowed as the count of first() or last()");
        }
        call.args.push_back(std::move(arg));
        skipSpace();
        if (peek(0) == ',') {
          ++i_;
          continue;
        }
        if (peek(0) == ')') {
          ++i_;
          break;
        }
        if (i_ >= s_.size()) return errorAt(start, name + "( is never closed");
        return error("expected , or ) in the arguments of " + name + "()");
      }
    }
    if (call.args.size() < fn->min_args || call.args.size() > fn->max_args) {
      std::string expected = fn->max_args == SIZE_MAX ? "at least " + std::to_string(fn->min_args)
                                                      : std::to_string(fn->min_args);
      return errorAt(start, name + "() takes " + expected + " argument" +
                                (fn->min_args == 1 && fn->max_args == 1 ? "" : "s") + ", not " +
                                std::to_string(call.args.size()));
    }
    return call;
  }

  Result<TemplateExpr> parseString() {
    const size_t start = i_;
    ++i_;
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') {
        if (peek(1) != '"' && peek(1) != '\\')
          return error("only \\\" and \\\\ are escapes in \"text\"");
        out += s_[i_ + 1];
        i_ += 2;
      } else {
        out += s_[i_++];
      }
    }
    if (i_ >= s_.size()) return errorAt(start, "the string is never closed");
    ++i_;
    return TemplateExpr{.kind = TemplateExpr::Kind::kText, .text = std::move(out)};
  }

  Result<TemplateExpr> parseNumber() {
    const size_t start = i_;
    int value = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (value > 10000) return errorAt(start, "the number is too large");
      value = value * 10 + (s_[i_] - '0');
      ++i_;
    }
    return TemplateExpr{.kind = TemplateExpr::Kind::kNumber, .number = value};
  }

  static constexpr int kMaxDepth = 16;
  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

// The value of a field: a view of the record, the context or the shared values ("" when missing).
std::string_view lookupField(const TemplateExpr& e, const NameContext& ctx) {
  if (e.member != nullptr) {
    return ctx.record == nullptr ? std::string_view() : std::string_view(ctx.record->*e.member);
  }
  const std::string& name = e.text;
  if (name.starts_with(kCustomPrefix)) {
    if (ctx.record == nullptr) return {};
    const std::string key(name.substr(kCustomPrefix.size()));
    if (auto it = ctx.record->custom.find(key); it != ctx.record->custom.end()) return it->second;
    // Column headers are kept verbatim; a template should not break over "Cost_Center" vs
    // "cost_center".
    const std::string lower_key = asciiLower(key);
    for (const auto& [k, v] : ctx.record->custom) {
      if (asciiLower(k) == lower_key) return v;
    }
    return {};
  }
  if (ctx.display_name != nullptr && name == "display_name") return *ctx.display_name;
  if (ctx.sam_account_name != nullptr && name == "sam_account_name") return *ctx.sam_account_name;
  if (auto it = ctx.computed.find(name); it != ctx.computed.end()) return it->second;
  if (ctx.shared) {
    if (auto it = ctx.shared->find(name); it != ctx.shared->end()) return it->second;
  }
  return {};
}

std::string keepAlnum(std::string_view s) {
  std::string out;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) out += c;
  }
  return out;
}

std::string stripChars(std::string_view s, std::string_view chars) {
  std::vector<char32_t> drop;
  for (size_t i = 0; i < chars.size();) {
    if (auto cp = decodeUtf8(chars, i)) {
      drop.push_back(*cp);
    } else {
      ++i;
    }
  }
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    auto cp = decodeUtf8(s, i);
    if (!cp) {
      out += s[start];
      i = start + 1;
      continue;
    }
    if (std::find(drop.begin(), drop.end(), *cp) == drop.end())
      out.append(s.substr(start, i - start));
  }
  return out;
}

std::string replaceAll(std::string_view s, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(s);
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

// Trimmed at both ends (Unicode spaces too) with inner runs of white space collapsed to one space.
std::string collapseSpace(std::string_view s) {
  const std::string trimmed = trimUnicodeSpace(s);
  std::string out;
  bool in_space = false;
  for (char c : trimmed) {
    if (isSpace(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

std::string mailLocal(std::string_view s) {
  std::string out;
  for (char c : asciiLower(s)) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) continue;
    if (c == '.' && (out.empty() || out.back() == '.')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// transliterate(), which keeps ASCII other than NUL as it is.
std::string asciiOf(std::string_view s) {
  if (asciiOnly(s) && s.find('\0') == std::string_view::npos) return std::string(s);
  return transliterate(s);
}

bool isAsciiSpace(char c) { return isSpace(c) || c == '\v' || c == '\f'; }

// trimUnicodeSpace(s).empty(), without the copy.
bool isBlank(std::string_view s) {
  if (asciiOnly(s)) return std::all_of(s.begin(), s.end(), isAsciiSpace);
  return trimUnicodeSpace(s).empty();
}

void lowerAsciiInPlace(std::string& s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] >= 'A' && s[i] <= 'Z') s[i] = static_cast<char>(s[i] - 'A' + 'a');
  }
}

void upperAsciiInPlace(std::string& s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] >= 'a' && s[i] <= 'z') s[i] = static_cast<char>(s[i] - 'a' + 'A');
  }
}

// keepAlnum on s[from..].
void keepAlnumInPlace(std::string& s, size_t from) {
  s.erase(std::remove_if(s.begin() + static_cast<std::ptrdiff_t>(from), s.end(),
                         [](char c) {
                           return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                    (c >= '0' && c <= '9'));
                         }),
          s.end());
}

// collapseSpace on s[from..].
void collapseSpaceInPlace(std::string& s, size_t from) {
  const std::string_view tail = std::string_view(s).substr(from);
  if (!asciiOnly(tail)) {
    std::string collapsed = collapseSpace(tail);
    s.resize(from);
    s += collapsed;
    return;
  }
  // ASCII: trimUnicodeSpace trims the six ASCII spaces; then runs of isSpace become one ' '.
  size_t b = from;
  size_t e = s.size();
  while (b < e && isAsciiSpace(s[b])) ++b;
  while (e > b && isAsciiSpace(s[e - 1])) --e;
  size_t w = from;
  bool in_space = false;
  for (size_t i = b; i < e; ++i) {
    const char c = s[i];
    if (isSpace(c)) {
      in_space = true;
      continue;
    }
    if (in_space) s[w++] = ' ';
    in_space = false;
    s[w++] = c;
  }
  s.resize(w);
}

// mailLocal on the whole of s.
void mailLocalInPlace(std::string& s) {
  size_t w = 0;
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) continue;
    if (c == '.' && (w == 0 || s[w - 1] == '.')) continue;
    s[w++] = c;
  }
  while (w > 0 && s[w - 1] == '.') --w;
  s.resize(w);
}

std::string evaluateExpr(const TemplateExpr& e, const NameContext& ctx);
size_t prefixBytes(std::string_view s, size_t n);
size_t codePointCount(std::string_view s);

// Appends the value of `e` to `out`. Calls work on the tail they appended, in place where the
// text is ASCII: evaluating into a fresh string per node was most of the template's cost
// (docs/benchmarks.md).
void appendExpr(const TemplateExpr& e, const NameContext& ctx, std::string& out) {
  switch (e.kind) {
    case TemplateExpr::Kind::kText:
      out += e.text;
      return;
    case TemplateExpr::Kind::kNumber:
      out += std::to_string(e.number);
      return;
    case TemplateExpr::Kind::kField:
      out += lookupField(e, ctx);
      return;
    case TemplateExpr::Kind::kCall:
      break;
  }
  const size_t start = out.size();
  auto tail = [&] { return std::string_view(out).substr(start); };
  auto replaceTail = [&](const std::string& value) {
    out.resize(start);
    out += value;
  };
  if (e.function == kCoalesce) {
    for (const auto& a : e.args) {
      appendExpr(a, ctx, out);
      if (!isBlank(tail())) return;
      out.resize(start);
    }
    return;
  }
  appendExpr(e.args[0], ctx, out);
  switch (e.function) {
    case kFirst:
      out.resize(start + prefixBytes(tail(), static_cast<size_t>(e.args[1].number)));
      return;
    case kLast: {
      const size_t n = static_cast<size_t>(e.args[1].number);
      const size_t total = codePointCount(tail());
      if (n < total) out.erase(start, prefixBytes(tail(), total - n));
      return;
    }
    case kLower:
      if (asciiOnly(tail())) {
        lowerAsciiInPlace(out, start);
      } else {
        replaceTail(toLowerLatin(tail()));
      }
      return;
    case kUpper:
      if (asciiOnly(tail())) {
        upperAsciiInPlace(out, start);
      } else {
        replaceTail(toUpperLatin(tail()));
      }
      return;
    case kAscii:
      if (!asciiOnly(tail()) || tail().find('\0') != std::string_view::npos) {
        replaceTail(transliterate(tail()));
      }
      return;
    case kAlnum:
      keepAlnumInPlace(out, start);
      return;
    case kTrim:
      collapseSpaceInPlace(out, start);
      return;
    case kStrip:
      replaceTail(stripChars(tail(), evaluateExpr(e.args[1], ctx)));
      return;
    case kReplace:
      replaceTail(replaceAll(tail(), evaluateExpr(e.args[1], ctx), evaluateExpr(e.args[2], ctx)));
      return;
    default:
      out.resize(start);
  }
}

std::string evaluateExpr(const TemplateExpr& e, const NameContext& ctx) {
  std::string out;
  appendExpr(e, ctx, out);
  return out;
}

void collectFields(const TemplateExpr& e, std::vector<std::string>& out) {
  if (e.kind == TemplateExpr::Kind::kField) {
    if (std::find(out.begin(), out.end(), e.text) == out.end()) out.push_back(e.text);
  }
  for (const auto& a : e.args) collectFields(a, out);
}

// Latin-1 letters map by +/-0x20 (except × and ÷); Latin Extended-A letters come in pairs.
char32_t lowerCp(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 0x20;
  if (cp == 0x130) return 'i';  // İ; the dotless ı stays as it is
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) return cp | 1;
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
    return (cp % 2 == 1) ? cp + 1 : cp;
  if (cp == 0x178) return 0xFF;
  return cp;
}

char32_t upperCp(char32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 0x20;
  if (cp == 0x131) return 'I';  // dotless ı
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;
  if (cp == 0xFF) return 0x178;
  if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) return cp & ~char32_t{1};
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
    return (cp % 2 == 0) ? cp - 1 : cp;
  return cp;
}

template <typename F>
std::string mapCodePoints(std::string_view s, F f) {
  if (asciiOnly(s)) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(f(static_cast<unsigned char>(c)));
    return out;
  }
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    auto cp = decodeUtf8(s, i);
    if (!cp) {
      out += s[start];
      i = start + 1;
      continue;
    }
    appendUtf8(out, f(*cp));
  }
  return out;
}

// Byte offset after the first n code points (invalid bytes count as one each).
size_t prefixBytes(std::string_view s, size_t n) {
  if (asciiOnly(s)) return std::min(n, s.size());
  size_t i = 0;
  for (size_t k = 0; k < n && i < s.size(); ++k) {
    const size_t start = i;
    if (!decodeUtf8(s, i)) i = start + 1;
  }
  return i;
}

size_t codePointCount(std::string_view s) {
  if (asciiOnly(s)) return s.size();
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++count) {
    const size_t start = i;
    if (!decodeUtf8(s, i)) i = start + 1;
  }
  return count;
}

}  // namespace

std::string firstCodePoints(std::string_view s, size_t n) {
  return std::string(s.substr(0, prefixBytes(s, n)));
}

std::string lastCodePoints(std::string_view s, size_t n) {
  const size_t total = codePointCount(s);
  if (n >= total) return std::string(s);
  return std::string(s.substr(prefixBytes(s, total - n)));
}

std::string toLowerLatin(std::string_view s) { return mapCodePoints(s, lowerCp); }
std::string toUpperLatin(std::string_view s) { return mapCodePoints(s, upperCp); }

std::string CompiledTemplate::evaluate(const NameContext& ctx) const {
  std::string out;
  appendTo(ctx, out);
  return out;
}

void CompiledTemplate::appendTo(const NameContext& ctx, std::string& out) const {
  for (const auto& p : parts_) appendExpr(p, ctx, out);
}

std::vector<std::string> CompiledTemplate::fields() const {
  std::vector<std::string> out;
  for (const auto& p : parts_) collectFields(p, out);
  return out;
}

bool CompiledTemplate::references(std::string_view field) const {
  const auto f = fields();
  return std::find(f.begin(), f.end(), field) != f.end();
}

Result<CompiledTemplate> compileTemplate(std::string_view text) {
  if (!isValidUtf8(text)) return dataError("the template is not valid UTF-8");
  if (text.size() > kMaxTemplateBytes) {
    return dataError("the template is longer than " + std::to_string(kMaxTemplateBytes) + " bytes");
  }
  Parser parser(text);
  ASSIGN_OR_RETURN(auto parts, parser.parseTemplate());
  CompiledTemplate t;
  t.source_ = std::string(text);
  t.parts_ = std::move(parts);
  return t;
}

namespace {
constexpr std::string_view kTransforms[] = {"transliterate", "lower", "upper",     "alnum",
                                            "strip_spaces",  "trim",  "mail_local"};
}  // namespace

bool isKnownTransform(std::string_view name) {
  return std::find(std::begin(kTransforms), std::end(kTransforms), name) != std::end(kTransforms);
}

std::string applyTransform(std::string_view name, std::string_view value) {
  if (name == "transliterate") return asciiOf(value);
  if (name == "lower") return toLowerLatin(value);
  if (name == "upper") return toUpperLatin(value);
  if (name == "alnum") return keepAlnum(value);
  if (name == "strip_spaces") return stripChars(value, " \t\r\n\u00A0");
  if (name == "trim") return collapseSpace(value);
  if (name == "mail_local") return mailLocal(value);
  return std::string(value);
}

Result<CompiledNameRule> compileRule(const NameRule& rule) {
  CompiledNameRule out{.rule = rule};
  auto value = compileTemplate(rule.template_text);
  if (!value) return value.status().withContext("template");
  out.value = std::move(value).value();
  if (!rule.fallback_template.empty()) {
    auto fallback = compileTemplate(rule.fallback_template);
    if (!fallback) return fallback.status().withContext("fallback");
    out.fallback = std::move(fallback).value();
  }
  for (const auto& t : rule.transforms) {
    if (!isKnownTransform(t)) return dataError("unknown transform \"" + t + "\"");
  }
  return out;
}

namespace {
// applyTransform, in place for the common transforms of ASCII text.
void applyTransformInPlace(std::string_view name, std::string& value) {
  if (name == "lower" && asciiOnly(value)) return lowerAsciiInPlace(value, 0);
  if (name == "alnum") return keepAlnumInPlace(value, 0);
  if (name == "mail_local") return mailLocalInPlace(value);
  if (name == "trim") return collapseSpaceInPlace(value, 0);
  if (name == "transliterate" && asciiOnly(value) && value.find('\0') == std::string::npos) return;
  value = applyTransform(name, value);
}

void finish(const NameRule& rule, std::string& value) {
  for (const auto& t : rule.transforms) applyTransformInPlace(t, value);
  // A value of at most max_length bytes has at most that many code points: nothing to cut (the
  // usual case).
  if (rule.max_length > 0 && value.size() > rule.max_length) {
    value.resize(prefixBytes(value, rule.max_length));
  }
}
}  // namespace

std::string applyRule(const CompiledNameRule& rule, const NameContext& ctx) {
  const size_t min = std::max<size_t>(1, rule.rule.min_length);
  std::string value;
  rule.value.appendTo(ctx, value);
  finish(rule.rule, value);
  if (codePointCount(value) < min && rule.fallback) {
    value.clear();
    rule.fallback->appendTo(ctx, value);
    finish(rule.rule, value);
  }
  if (codePointCount(value) < min) value.clear();
  return value;
}

Result<std::string> applyRule(const NameRule& rule, const NameContext& ctx) {
  ASSIGN_OR_RETURN(auto compiled, compileRule(rule));
  return applyRule(compiled, ctx);
}

std::string numberedCandidate(const NameRule& rule, std::string_view base, int n) {
  std::string out;
  appendNumberedCandidate(rule, base, n, out);
  return out;
}

void appendNumberedCandidate(const NameRule& rule, std::string_view base, int n, std::string& out) {
  // A rule that yields a whole address (a UPN template "...@{upn_suffix}") is numbered in its
  // local part: jsmith2@example.com, not jsmith@example.com2.
  const size_t at = base.rfind('@');
  const std::string_view domain =
      at == std::string_view::npos ? std::string_view() : base.substr(at);
  const std::string_view local = base.substr(0, base.size() - domain.size());
  const size_t limit = rule.max_length;
  const size_t domain_len = codePointCount(domain);
  const std::string suffix = n <= 1 ? std::string() : std::to_string(n);
  const size_t reserved = suffix.size() + domain_len;
  const size_t keep = limit == 0 ? local.size() : reserved >= limit ? 0 : limit - reserved;
  // Appended in place (this runs for every person's mail address).
  out += local.substr(0, prefixBytes(local, keep));
  out += suffix;
  out += domain;
}

}  // namespace tenure::policy
