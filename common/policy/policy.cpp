#include "common/policy/policy.h"

#include "common/base/cron.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <limits>
#include <type_traits>

#include <boost/json.hpp>

#include "common/base/time_zone.h"
#include "common/base/utf8.h"
#include "common/base/zone_database.h"
#include "common/hr/validation.h"
#include "common/ldap/escape.h"
#include "common/policy/name_template.h"

namespace tenure::policy {

namespace bj = boost::json;

namespace {

constexpr std::string_view kCustomPrefix = "custom.";
constexpr std::string_view kConditionFields[] = {
    "department", "title", "location", "employment_type", "status", "manager_id", "employee_id"};

// The value of a condition field for a record; nullptr for an unknown field name. Points into
// the record (or at an empty string), so matching copies nothing.
const std::string* conditionValue(const hr::HrRecord& r, std::string_view field) {
  static const std::string kEmpty;
  if (field.starts_with(kCustomPrefix)) {
    const std::string key(field.substr(kCustomPrefix.size()));
    if (auto it = r.custom.find(key); it != r.custom.end()) return &it->second;
    const std::string lower_key = asciiLower(key);
    for (const auto& [k, v] : r.custom) {
      if (asciiLower(k) == lower_key) return &v;
    }
    return &kEmpty;
  }
  if (auto member = hr::canonicalField(field)) return &(r.*member);
  return nullptr;
}

std::string foldCase(std::string_view s) { return toLowerLatin(trimUnicodeSpace(s)); }

bool isAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool isAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trimAsciiSpace(std::string_view s) {
  while (!s.empty() && isAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

char asciiLowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// foldCase(a) == foldCase(b). For ASCII text (nearly every HR value) foldCase is trimming ASCII
// space and lower-casing A-Z, so compare in place; anything else (including an ASCII value against
// "İT", which folds to "it") takes the full Unicode path.
bool foldedEqual(std::string_view a, std::string_view b) {
  if (isAscii(a) && isAscii(b)) {
    a = trimAsciiSpace(a);
    b = trimAsciiSpace(b);
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(),
                      [](char x, char y) { return asciiLowerChar(x) == asciiLowerChar(y); });
  }
  return foldCase(a) == foldCase(b);
}

}  // namespace

bool Condition::matches(const hr::HrRecord& r) const {
  for (const auto& [field, values] : equals) {
    const std::string* actual = conditionValue(r, field);
    if (!actual) return false;
    const bool any = std::any_of(values.begin(), values.end(),
                                 [&](const std::string& v) { return foldedEqual(v, *actual); });
    if (!any) return false;
  }
  return true;
}

CompiledCondition::CompiledCondition(const Condition& c) {
  for (const auto& [field, values] : c.equals) {
    Field f;
    f.name = field;
    if (!field.starts_with(kCustomPrefix)) f.member = hr::canonicalField(field);
    for (const std::string& v : values) {
      Value x{.text = v, .ascii = isAscii(v)};
      if (x.ascii) x.folded = asciiLower(trimAsciiSpace(v));
      f.values.push_back(std::move(x));
    }
    fields_.push_back(std::move(f));
  }
}

bool CompiledCondition::matches(const hr::HrRecord& r) const {
  for (const Field& f : fields_) {
    const std::string* actual = f.member ? &(r.*f.member) : conditionValue(r, f.name);
    if (!actual) return false;
    // foldedEqual with the value's side done already.
    const bool ascii = isAscii(*actual);
    const std::string_view a = ascii ? trimAsciiSpace(*actual) : std::string_view(*actual);
    const bool any = std::any_of(f.values.begin(), f.values.end(), [&](const Value& v) {
      if (!(ascii && v.ascii)) return foldedEqual(v.text, *actual);
      return a.size() == v.folded.size() &&
             std::equal(a.begin(), a.end(), v.folded.begin(),
                        [](char x, char y) { return asciiLowerChar(x) == y; });
    });
    if (!any) return false;
  }
  return true;
}

ConditionSet::ConditionSet(const std::vector<const Condition*>& conditions) {
  for (uint32_t i = 0; i < conditions.size(); ++i) {
    const Condition& c = *conditions[i];
    conditions_.emplace_back(c);
    clause_count_.push_back(static_cast<uint32_t>(c.equals.size()));
    const bool indexed = std::all_of(c.equals.begin(), c.equals.end(), [](const auto& kv) {
      return !kv.first.starts_with(kCustomPrefix) && hr::canonicalField(kv.first) != nullptr;
    });
    indexed_.push_back(indexed);
    if (!indexed) continue;
    for (const auto& [field, values] : c.equals) {
      const auto clause = static_cast<uint32_t>(clause_condition_.size());
      clause_condition_.push_back(i);
      clause_checks_.emplace_back(Condition{.equals = {{field, values}}});
      const bool slow = !std::all_of(values.begin(), values.end(),
                                     [](const std::string& v) { return isAscii(v); });
      std::string hr::HrRecord::*member = hr::canonicalField(field);
      auto f = std::find_if(fields_.begin(), fields_.end(),
                            [&](const FieldIndex& x) { return x.member == member; });
      if (f == fields_.end()) f = fields_.insert(fields_.end(), FieldIndex{.member = member});
      f->clauses.push_back(clause);
      if (slow) {
        f->slow_clauses.push_back(clause);
        continue;
      }
      for (const std::string& v : values) {
        std::vector<uint32_t>& hits = f->by_value[asciiLower(trimAsciiSpace(v))];
        if (hits.empty() || hits.back() != clause) hits.push_back(clause);
      }
    }
  }
}

void ConditionSet::matchAll(const hr::HrRecord& r, std::vector<uint32_t>& matched) const {
  // Count the satisfied clauses of each condition; a condition matches when all are.
  matched.assign(conditions_.size(), 0);
  char buffer[64];  // the folded value, when it fits (HR values nearly always do)
  std::string long_folded;
  for (const FieldIndex& f : fields_) {
    const std::string& actual = r.*f.member;
    if (!isAscii(actual)) {
      for (uint32_t clause : f.clauses) {
        if (clause_checks_[clause].matches(r)) ++matched[clause_condition_[clause]];
      }
      continue;
    }
    // CompiledCondition's comparison of two ASCII texts, as one lookup.
    const std::string_view trimmed = trimAsciiSpace(actual);
    char* folded = buffer;
    if (trimmed.size() > sizeof buffer) {
      long_folded.resize(trimmed.size());
      folded = long_folded.data();
    }
    std::transform(trimmed.begin(), trimmed.end(), folded, asciiLowerChar);
    if (auto it = f.by_value.find(std::string_view(folded, trimmed.size()));
        it != f.by_value.end()) {
      for (uint32_t clause : it->second) ++matched[clause_condition_[clause]];
    }
    for (uint32_t clause : f.slow_clauses) {
      if (clause_checks_[clause].matches(r)) ++matched[clause_condition_[clause]];
    }
  }
  for (size_t i = 0; i < conditions_.size(); ++i) {
    matched[i] = indexed_[i] ? matched[i] == clause_count_[i] : conditions_[i].matches(r);
  }
}

std::vector<std::string> Policy::managedGroups() const {
  std::vector<std::string> out;
  for (const auto& rule : groups) {
    for (const auto& g : rule.groups) {
      const bool seen = std::any_of(out.begin(), out.end(),
                                    [&](const std::string& o) { return ldap::dnEquals(o, g); });
      if (!seen) out.push_back(g);
    }
  }
  return out;
}

Policy defaultPolicy() {
  Policy p;
  NamingPolicy& n = p.naming;
  // The first letter that survives transliteration, so "Æ" or a leading apostrophe cannot leave
  // the name without its initial.
  n.sam_account_name = NameRule{
      .template_text =
          "{first(alnum(ascii(coalesce(preferred_name, given_name))), 1)}{family_name}",
      .transforms = {"transliterate", "lower", "alnum"},
      .max_length = 20,
      .min_length = 2,
      .unique = true,
      .fallback_template = "u{employee_id}",
  };
  n.user_principal_name = NameRule{
      .template_text = "{sam_account_name}@{upn_suffix}",
      .max_length = 1024,
  };
  n.mail = NameRule{
      .template_text = "{alnum(ascii(given_name))}.{alnum(ascii(family_name))}",
      .transforms = {"lower", "mail_local"},
      .max_length = 64,
      .unique = true,
      .fallback_template = "{sam_account_name}",
  };
  n.display_name = NameRule{
      .template_text = "{coalesce(preferred_name, given_name)} {family_name}",
      .transforms = {"trim"},
      .max_length = 256,
  };
  n.cn = NameRule{
      .template_text = "{display_name}",
      .max_length = 64,
      .unique = true,
      .fallback_template = "{sam_account_name}",
  };

  p.thresholds.disables = Threshold{.max_count = 50, .max_percent = 10.0};
  p.thresholds.deletes = Threshold{.max_count = 10, .max_percent = 2.0};
  p.thresholds.moves = Threshold{.max_count = 100, .max_percent = 20.0};
  p.thresholds.group_removals = Threshold{.max_count = 200, .max_percent = 20.0};
  p.thresholds.window = WindowThreshold{};

  p.employment_types["employee"] = EmploymentTypePolicy{.end_date_required = false};
  p.employment_types["contractor"] =
      EmploymentTypePolicy{.end_date_required = true, .max_days = 730};
  p.employment_types["intern"] = EmploymentTypePolicy{.end_date_required = true, .max_days = 365};
  p.employment_types["vendor"] = EmploymentTypePolicy{.end_date_required = true, .max_days = 730};
  p.employment_types["volunteer"] =
      EmploymentTypePolicy{.end_date_required = true, .max_days = 365};
  p.employment_types["partner"] = EmploymentTypePolicy{.end_date_required = true, .max_days = 730};
  return p;
}

// ---------------------------------------------------------------------------------------------
// Validation of the semantic rules (shared by parsePolicy and validatePolicy).

namespace {

std::string pointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string join(std::string_view path, std::string_view key) {
  return std::string(path) + "/" + pointerToken(key);
}
std::string join(std::string_view path, size_t index) {
  return std::string(path) + "/" + std::to_string(index);
}

template <size_t N>
std::string listOf(const std::string_view (&names)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    // Two appends rather than one concatenation: GCC 12 at -O3 misreports -Wrestrict on the latter.
    if (i) out += ", ";
    out += names[i];
  }
  return out;
}

std::string quoted(std::string_view s) {
  // Appends rather than one concatenation: GCC 12 at -O3 misreports -Wrestrict on the latter.
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

bool isDomainName(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = d.find('.', start);
    const std::string_view label =
        d.substr(start, dot == std::string_view::npos ? d.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

enum class DnKind { kContainer, kGroup };

// AD DNs in a policy: OU=/CN= components under DC= components. nullopt when fine.
std::optional<std::string> checkDn(std::string_view dn, DnKind kind) {
  const std::string example = kind == DnKind::kGroup
                                  ? "must be a group DN like CN=Sales,OU=Groups,DC=example,DC=com"
                                  : "must be a DN like OU=Sales,DC=example,DC=com";
  auto rdns = ldap::parseDn(dn);
  if (!rdns || rdns->size() < 2) return example;
  const auto& parts = *rdns;
  if (asciiLower(parts.back().type) != "dc") return example + " (it must end in DC= parts)";
  bool in_dc = false;
  for (const auto& rdn : parts) {
    const std::string type = asciiLower(rdn.type);
    if (type != "ou" && type != "cn" && type != "dc") {
      return example + " (" + quoted(rdn.type) + " is not OU, CN or DC)";
    }
    if (rdn.value.empty()) return example + " (an empty " + rdn.type + "= value)";
    if (type == "dc") {
      in_dc = true;
    } else if (in_dc) {
      return example + " (DC= parts come last)";
    }
  }
  if (kind == DnKind::kGroup && asciiLower(parts.front().type) != "cn") return example;
  if (kind == DnKind::kContainer && asciiLower(parts.front().type) == "dc") return example;
  return std::nullopt;
}

std::optional<std::string> checkTimeZone(const std::string& tz, const ZoneDatabase& zones) {
  if (tz == "UTC") return std::nullopt;
  const std::string unknown =
      "unknown time zone " + quoted(tz) + " (an IANA name like Europe/Berlin)";
  if (!isZoneName(tz)) return unknown;
  // Loaded the way the lifecycle engine will load it, so an accepted zone is a usable one (and
  // zone.tab, tzdata.zi and friends, which live in the same directory, are rejected).
  auto zone = loadZone(zones, tz);
  if (zone.isOk()) return std::nullopt;
  // Without a tz database (e.g. a Windows agent given no zone with its job) only the form can be
  // checked here; the control plane, which validates policies, has one.
  if (zone.status().errorClass() == ErrorClass::kNotFound && !zones.complete()) return std::nullopt;
  return unknown;
}

class Validator {
 public:
  Validator(std::vector<PolicyError>& errors, const ZoneDatabase& zones)
      : errors_(errors), zones_(zones) {}

  void run(const Policy& p) {
    naming(p.naming);
    placement(p.placement);
    for (size_t i = 0; i < p.groups.size(); ++i) groupRule(p.groups[i], join("/groups", i));
    lifecycle(p.lifecycle);
    for (const auto& [type, etp] : p.employment_types) {
      const std::string path = join("/employment_types", type);
      if (!std::any_of(std::begin(hr::kEmploymentTypes), std::end(hr::kEmploymentTypes),
                       [&type = type](const char* t) { return type == t; })) {
        add(path,
            "unknown employment type; one of employee, contractor, intern, vendor, volunteer, "
            "partner");
      }
      if (etp.max_days && *etp.max_days < 1)
        add(join(path, "max_days"), "must be at least 1 (or null)");
    }
    mailbox(p.mailbox, p.naming);
    thresholds(p.thresholds);
  }

 private:
  void add(std::string path, std::string reason) {
    errors_.push_back(PolicyError{.path = std::move(path), .reason = std::move(reason)});
  }

  void naming(const NamingPolicy& n) {
    // The order names are computed in (name_template.h): a rule may only read names before it.
    rule(n.display_name, "/naming/display_name", 256, "displayName",
         {"display_name", "sam_account_name"});
    rule(n.sam_account_name, "/naming/sam_account_name", 20, "sAMAccountName",
         {"sam_account_name"});
    rule(n.user_principal_name, "/naming/user_principal_name", 1024, "userPrincipalName", {});
    rule(n.mail, "/naming/mail", 64, "the local part of mail", {});
    rule(n.cn, "/naming/cn", 64, "cn", {});
    if (!n.upn_suffix.empty() && !isDomainName(n.upn_suffix)) {
      add("/naming/upn_suffix", "must be a domain name like example.com");
    }
    if (!n.mail_domain.empty() && !isDomainName(n.mail_domain)) {
      add("/naming/mail_domain", "must be a domain name like example.com");
    }
  }

  void rule(const NameRule& r, const std::string& path, size_t limit, std::string_view attribute,
            std::initializer_list<std::string_view> not_yet_computed) {
    auto check = [&](const std::string& text, const std::string& where) {
      auto t = compileTemplate(text);
      if (!t) {
        add(where, t.status().message());
        return;
      }
      for (auto field : not_yet_computed) {
        if (t->references(field)) {
          add(where, std::string(field) + " is not known yet when " + std::string(attribute) +
                         " is computed");
        }
      }
    };
    check(r.template_text, join(path, "template"));
    if (!r.fallback_template.empty()) check(r.fallback_template, join(path, "fallback"));
    for (size_t i = 0; i < r.transforms.size(); ++i) {
      if (!isKnownTransform(r.transforms[i])) {
        add(join(join(path, "transforms"), i),
            "unknown transform " + quoted(r.transforms[i]) +
                "; one of transliterate, lower, upper, alnum, strip_spaces, trim, mail_local");
      }
    }
    if (r.min_length < 1 || r.min_length > r.max_length) {
      add(join(path, "min_length"), "must be between 1 and max_length");
    }
    if (r.max_length < 1 || r.max_length > limit) {
      add(join(path, "max_length"), "must be between 1 and " + std::to_string(limit) +
                                        " (the directory's limit for " + std::string(attribute) +
                                        ")");
    }
  }

  void condition(const Condition& c, const std::string& path) {
    for (const auto& [field, values] : c.equals) {
      const std::string field_path = join(path, field);
      const bool custom = field.starts_with(kCustomPrefix) && field.size() > kCustomPrefix.size();
      const bool known = std::find(std::begin(kConditionFields), std::end(kConditionFields),
                                   field) != std::end(kConditionFields);
      if (!custom && !known) {
        add(field_path, "unknown field; one of " + listOf(kConditionFields) + ", custom.<name>");
      }
      if (values.empty()) add(field_path, "must list at least one value");
    }
  }

  void placement(const PlacementPolicy& pl) {
    if (!pl.default_ou.empty()) {
      if (auto e = checkDn(pl.default_ou, DnKind::kContainer)) add("/placement/default_ou", *e);
    }
    if (!pl.leavers_ou.empty()) {
      if (auto e = checkDn(pl.leavers_ou, DnKind::kContainer)) add("/placement/leavers_ou", *e);
    }
    for (size_t i = 0; i < pl.rules.size(); ++i) {
      const std::string path = join("/placement/rules", i);
      condition(pl.rules[i].when, join(path, "when"));
      if (auto e = checkDn(pl.rules[i].ou, DnKind::kContainer)) add(join(path, "ou"), *e);
    }
  }

  void groupRule(const GroupRule& g, const std::string& path) {
    condition(g.when, join(path, "when"));
    if (g.groups.empty()) add(join(path, "groups"), "must list at least one group DN");
    for (size_t i = 0; i < g.groups.size(); ++i) {
      if (auto e = checkDn(g.groups[i], DnKind::kGroup)) add(join(join(path, "groups"), i), *e);
    }
  }

  void lifecycle(const LifecyclePolicy& l) {
    if (auto e = checkTimeZone(l.time_zone, zones_)) add("/lifecycle/time_zone", *e);
    if (l.prehire_days < 0 || l.prehire_days > 365) {
      add("/lifecycle/prehire_days", "must be between 0 and 365");
    }
    if (l.delete_after_days && *l.delete_after_days < 0) {
      add("/lifecycle/delete_after_days", "must be 0 or more (or null: never delete)");
    }
    if (l.name_reuse_days && *l.name_reuse_days < 0) {
      add("/lifecycle/name_reuse_days", "must be 0 or more (or null: never reuse)");
    }
  }

  void mailbox(const MailboxPolicy& m, const NamingPolicy& n) {
    if (m.mode != "auto" && m.mode != "off") add("/mailbox/mode", "must be \"auto\" or \"off\"");
    if (m.kind != "remote" && m.kind != "attributes") {
      add("/mailbox/kind", "must be \"remote\" or \"attributes\"");
    }
    if (!m.remote_routing_domain.empty() && !isDomainName(m.remote_routing_domain)) {
      add("/mailbox/remote_routing_domain",
          "must be a domain name like contoso.mail.onmicrosoft.com");
    }
    if (m.mode == "auto" && m.kind == "remote" && !n.mail_domain.empty() &&
        m.remote_routing_domain.empty()) {
      add("/mailbox/remote_routing_domain",
          "is required for remote mailboxes (targetAddress); or set kind to \"attributes\"");
    }
  }

  void threshold(const Threshold& t, const std::string& path) {
    if (t.max_count && *t.max_count < 0)
      add(join(path, "max_count"), "must be 0 or more (or null)");
    if (t.max_percent && !(*t.max_percent >= 0.0 && *t.max_percent <= 100.0)) {
      add(join(path, "max_percent"), "must be between 0 and 100");
    }
  }

  void thresholds(const ThresholdPolicy& t) {
    threshold(t.disables, "/thresholds/disables");
    threshold(t.deletes, "/thresholds/deletes");
    threshold(t.moves, "/thresholds/moves");
    threshold(t.group_removals, "/thresholds/group_removals");
    if (t.min_population_for_percent < 0) {
      add("/thresholds/min_population_for_percent", "must be 0 or more");
    }
    if (t.window) {
      if (t.window->minutes < 1 || t.window->minutes > 10080) {
        add("/thresholds/window/minutes", "must be between 1 and 10080 (a week)");
      }
      if (t.window->max_disables && *t.window->max_disables < 0) {
        add("/thresholds/window/max_disables", "must be 0 or more (or null)");
      }
      if (t.window->max_deletes && *t.window->max_deletes < 0) {
        add("/thresholds/window/max_deletes", "must be 0 or more (or null)");
      }
    }
  }

  std::vector<PolicyError>& errors_;
  const ZoneDatabase& zones_;
};

// ---------------------------------------------------------------------------------------------
// Reading the JSON document: types and unknown fields. Fields with a wrong type keep their
// default, so the semantic checks that follow do not report the same field twice.

class Reader {
 public:
  explicit Reader(std::vector<PolicyError>& errors) : errors_(errors) {}

  void add(std::string path, std::string reason) {
    errors_.push_back(PolicyError{.path = std::move(path), .reason = std::move(reason)});
  }

  // The object at `v`, or null (reported) when it is something else. JSON null reads as absent.
  const bj::object* object(const bj::value& v, const std::string& path,
                           std::initializer_list<std::string_view> known) {
    if (!v.is_object()) {
      add(path, "must be an object");
      return nullptr;
    }
    const auto& o = v.get_object();
    for (const auto& kv : o) {
      if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        add(join(path, kv.key()), "unknown field; one of " + list);
      }
    }
    return &o;
  }

  const bj::value* field(const bj::object& o, std::string_view key) {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return nullptr;
    return &it->value();
  }

  void string(const bj::object& o, std::string_view key, const std::string& path,
              std::string& out) {
    const bj::value* v = field(o, key);
    if (v == nullptr) return;
    if (!v->is_string()) return add(join(path, key), "must be a string");
    out = std::string(v->get_string());
  }

  void boolean(const bj::object& o, std::string_view key, const std::string& path, bool& out) {
    const bj::value* v = field(o, key);
    if (v == nullptr) return;
    if (!v->is_bool()) return add(join(path, key), "must be true or false");
    out = v->get_bool();
  }

  std::optional<int64_t> integer(const bj::value& v, const std::string& path) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
      if (v.get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return static_cast<int64_t>(v.get_uint64());
      }
    } else if (v.is_double() && std::floor(v.get_double()) == v.get_double() &&
               std::abs(v.get_double()) < 1e15) {
      return static_cast<int64_t>(v.get_double());
    }
    add(path, "must be a whole number");
    return std::nullopt;
  }

  template <typename Int>
  void number(const bj::object& o, std::string_view key, const std::string& path, Int& out) {
    const bj::value* v = field(o, key);
    if (v == nullptr) return;
    auto n = integer(*v, join(path, key));
    if (!n) return;
    if (*n < 0 && std::is_unsigned_v<Int>) return add(join(path, key), "must be 0 or more");
    if (*n > 1'000'000'000 || *n < -1'000'000'000) return add(join(path, key), "is out of range");
    out = static_cast<Int>(*n);
  }

  // Present and null: nullopt ("no limit"); absent: the default stays.
  void optionalInt(const bj::object& o, std::string_view key, const std::string& path,
                   std::optional<int>& out) {
    auto it = o.find(key);
    if (it == o.end()) return;
    if (it->value().is_null()) {
      out.reset();
      return;
    }
    auto n = integer(it->value(), join(path, key));
    if (!n) return;
    if (*n > 1'000'000'000 || *n < -1'000'000'000) return add(join(path, key), "is out of range");
    out = static_cast<int>(*n);
  }

  void optionalDouble(const bj::object& o, std::string_view key, const std::string& path,
                      std::optional<double>& out) {
    auto it = o.find(key);
    if (it == o.end()) return;
    const bj::value& v = it->value();
    if (v.is_null()) {
      out.reset();
    } else if (v.is_number()) {
      out = v.to_number<double>();
    } else {
      add(join(path, key), "must be a number (or null)");
    }
  }

  void stringArray(const bj::object& o, std::string_view key, const std::string& path,
                   std::vector<std::string>& out) {
    const bj::value* v = field(o, key);
    if (v == nullptr) return;
    if (!v->is_array()) return add(join(path, key), "must be an array of strings");
    std::vector<std::string> values;
    const auto& a = v->get_array();
    for (size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string()) {
        add(join(join(path, key), i), "must be a string");
        continue;
      }
      values.emplace_back(a[i].get_string());
    }
    out = std::move(values);
  }

  void nameRule(const bj::object& o, std::string_view key, const std::string& parent, NameRule& r) {
    const bj::value* v = field(o, key);
    if (v == nullptr) return;
    const std::string path = join(parent, key);
    const bj::object* ro =
        object(*v, path,
               {"template", "transforms", "max_length", "min_length", "unique", "fallback"});
    if (ro == nullptr) return;
    string(*ro, "template", path, r.template_text);
    stringArray(*ro, "transforms", path, r.transforms);
    number(*ro, "max_length", path, r.max_length);
    number(*ro, "min_length", path, r.min_length);
    boolean(*ro, "unique", path, r.unique);
    string(*ro, "fallback", path, r.fallback_template);
  }

  void naming(const bj::value& v, NamingPolicy& n) {
    const std::string path = "/naming";
    const bj::object* o = object(v, path,
                                 {"sam_account_name", "user_principal_name", "mail", "display_name",
                                  "cn", "upn_suffix", "mail_domain"});
    if (o == nullptr) return;
    nameRule(*o, "sam_account_name", path, n.sam_account_name);
    nameRule(*o, "user_principal_name", path, n.user_principal_name);
    nameRule(*o, "mail", path, n.mail);
    nameRule(*o, "display_name", path, n.display_name);
    nameRule(*o, "cn", path, n.cn);
    string(*o, "upn_suffix", path, n.upn_suffix);
    string(*o, "mail_domain", path, n.mail_domain);
  }

  // {"department": "Sales"} or {"department": ["Sales", "Marketing"]}.
  Condition condition(const bj::object& o, const std::string& parent) {
    Condition c;
    const bj::value* v = field(o, "when");
    if (v == nullptr) return c;
    const std::string path = join(parent, "when");
    if (!v->is_object()) {
      add(path, "must be an object of field: value or field: [values]");
      return c;
    }
    for (const auto& kv : v->get_object()) {
      const std::string key(kv.key());
      const std::string field_path = join(path, key);
      std::vector<std::string> values;
      if (kv.value().is_string()) {
        values.emplace_back(kv.value().get_string());
      } else if (kv.value().is_array()) {
        const auto& a = kv.value().get_array();
        for (size_t i = 0; i < a.size(); ++i) {
          if (a[i].is_string()) {
            values.emplace_back(a[i].get_string());
          } else {
            add(join(field_path, i), "must be a string");
          }
        }
      } else {
        add(field_path, "must be a string or an array of strings");
        continue;
      }
      c.equals[key] = std::move(values);
    }
    return c;
  }

  void placement(const bj::value& v, PlacementPolicy& pl) {
    const std::string path = "/placement";
    const bj::object* o =
        object(v, path, {"default_ou", "rules", "leavers_ou", "create_missing_ous"});
    if (o == nullptr) return;
    string(*o, "default_ou", path, pl.default_ou);
    string(*o, "leavers_ou", path, pl.leavers_ou);
    boolean(*o, "create_missing_ous", path, pl.create_missing_ous);
    const bj::value* rules = field(*o, "rules");
    if (rules == nullptr) return;
    if (!rules->is_array()) return add(join(path, "rules"), "must be an array");
    pl.rules.clear();
    const auto& a = rules->get_array();
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string rule_path = join(join(path, "rules"), i);
      const bj::object* ro = object(a[i], rule_path, {"when", "ou"});
      if (ro == nullptr) continue;
      PlacementRule rule;
      rule.when = condition(*ro, rule_path);
      if (field(*ro, "ou") == nullptr) {
        add(join(rule_path, "ou"), "is required (the DN of the OU)");
        continue;
      }
      string(*ro, "ou", rule_path, rule.ou);
      pl.rules.push_back(std::move(rule));
    }
  }

  void groups(const bj::value& v, std::vector<GroupRule>& out) {
    if (!v.is_array()) return add("/groups", "must be an array of rules");
    out.clear();
    const auto& a = v.get_array();
    for (size_t i = 0; i < a.size(); ++i) {
      const std::string rule_path = join("/groups", i);
      const bj::object* ro = object(a[i], rule_path, {"when", "groups"});
      if (ro == nullptr) continue;
      GroupRule rule;
      rule.when = condition(*ro, rule_path);
      if (field(*ro, "groups") == nullptr) {
        add(join(rule_path, "groups"), "is required (a list of group DNs)");
        continue;
      }
      stringArray(*ro, "groups", rule_path, rule.groups);
      out.push_back(std::move(rule));
    }
  }

  void lifecycle(const bj::value& v, LifecyclePolicy& l) {
    const std::string path = "/lifecycle";
    const bj::object* o =
        object(v, path,
               {"time_zone", "prehire_days", "leave_disables", "leaver_remove_rule_groups",
                "leaver_move_to_leavers_ou", "leaver_hide_from_address_lists",
                "leaver_set_account_expires", "delete_after_days", "name_reuse_days"});
    if (o == nullptr) return;
    string(*o, "time_zone", path, l.time_zone);
    number(*o, "prehire_days", path, l.prehire_days);
    boolean(*o, "leave_disables", path, l.leave_disables);
    boolean(*o, "leaver_remove_rule_groups", path, l.leaver_remove_rule_groups);
    boolean(*o, "leaver_move_to_leavers_ou", path, l.leaver_move_to_leavers_ou);
    boolean(*o, "leaver_hide_from_address_lists", path, l.leaver_hide_from_address_lists);
    boolean(*o, "leaver_set_account_expires", path, l.leaver_set_account_expires);
    optionalInt(*o, "delete_after_days", path, l.delete_after_days);
    optionalInt(*o, "name_reuse_days", path, l.name_reuse_days);
  }

  void employmentTypes(const bj::value& v, std::map<std::string, EmploymentTypePolicy>& out) {
    const std::string path = "/employment_types";
    if (!v.is_object()) return add(path, "must be an object keyed by employment type");
    for (const auto& kv : v.get_object()) {
      const std::string type(kv.key());
      const std::string type_path = join(path, type);
      const bj::object* o = object(kv.value(), type_path, {"end_date_required", "max_days"});
      if (o == nullptr) continue;
      EmploymentTypePolicy& etp = out[type];  // an unknown type is reported by the Validator
      boolean(*o, "end_date_required", type_path, etp.end_date_required);
      optionalInt(*o, "max_days", type_path, etp.max_days);
    }
  }

  void mailbox(const bj::value& v, MailboxPolicy& m) {
    const std::string path = "/mailbox";
    const bj::object* o =
        object(v, path, {"mode", "kind", "remote_routing_domain", "keep_old_addresses"});
    if (o == nullptr) return;
    string(*o, "mode", path, m.mode);
    string(*o, "kind", path, m.kind);
    string(*o, "remote_routing_domain", path, m.remote_routing_domain);
    boolean(*o, "keep_old_addresses", path, m.keep_old_addresses);
  }

  void threshold(const bj::object& o, std::string_view key, const std::string& parent,
                 Threshold& t) {
    auto it = o.find(key);
    if (it == o.end()) return;
    const std::string path = join(parent, key);
    if (it->value().is_null()) {  // no limit of this kind at all
      t = Threshold{};
      return;
    }
    const bj::object* to = object(it->value(), path, {"max_count", "max_percent"});
    if (to == nullptr) return;
    optionalInt(*to, "max_count", path, t.max_count);
    optionalDouble(*to, "max_percent", path, t.max_percent);
  }

  void thresholds(const bj::value& v, ThresholdPolicy& t) {
    const std::string path = "/thresholds";
    const bj::object* o =
        object(v, path,
               {"disables", "deletes", "moves", "group_removals", "min_population_for_percent",
                "window"});
    if (o == nullptr) return;
    if (auto it = o->find("window"); it != o->end()) {
      if (it->value().is_null()) {  // no limit across runs
        t.window.reset();
      } else if (const bj::object* w = object(it->value(), join(path, "window"),
                                              {"minutes", "max_disables", "max_deletes"})) {
        if (!t.window) t.window = WindowThreshold{};
        number(*w, "minutes", join(path, "window"), t.window->minutes);
        optionalInt(*w, "max_disables", join(path, "window"), t.window->max_disables);
        optionalInt(*w, "max_deletes", join(path, "window"), t.window->max_deletes);
      }
    }
    threshold(*o, "disables", path, t.disables);
    threshold(*o, "deletes", path, t.deletes);
    threshold(*o, "moves", path, t.moves);
    threshold(*o, "group_removals", path, t.group_removals);
    number(*o, "min_population_for_percent", path, t.min_population_for_percent);
  }

  void policy(const bj::value& doc, Policy& p) {
    const bj::object* o = object(doc, "",
                                 {"version", "naming", "placement", "groups", "lifecycle",
                                  "employment_types", "mailbox", "thresholds"});
    if (o == nullptr) return;
    number(*o, "version", "", p.version);
    if (const bj::value* v = field(*o, "naming")) naming(*v, p.naming);
    if (const bj::value* v = field(*o, "placement")) placement(*v, p.placement);
    if (const bj::value* v = field(*o, "groups")) groups(*v, p.groups);
    if (const bj::value* v = field(*o, "lifecycle")) lifecycle(*v, p.lifecycle);
    if (const bj::value* v = field(*o, "employment_types")) employmentTypes(*v, p.employment_types);
    if (const bj::value* v = field(*o, "mailbox")) mailbox(*v, p.mailbox);
    if (const bj::value* v = field(*o, "thresholds")) thresholds(*v, p.thresholds);
  }

 private:
  std::vector<PolicyError>& errors_;
};

bj::value optionalJson(const std::optional<int>& v) {
  return v ? bj::value(*v) : bj::value(nullptr);
}
bj::value optionalJson(const std::optional<double>& v) {
  return v ? bj::value(*v) : bj::value(nullptr);
}

bj::object ruleJson(const NameRule& r) {
  return {{"template", r.template_text},
          {"transforms", bj::value_from(r.transforms)},
          {"max_length", r.max_length},
          {"min_length", r.min_length},
          {"unique", r.unique},
          {"fallback", r.fallback_template}};
}

bj::object conditionJson(const Condition& c) {
  bj::object o;
  for (const auto& [field, values] : c.equals) o[field] = bj::value_from(values);
  return o;
}

bj::object thresholdJson(const Threshold& t) {
  return {{"max_count", optionalJson(t.max_count)}, {"max_percent", optionalJson(t.max_percent)}};
}

}  // namespace

std::vector<PolicyError> validatePolicy(const Policy& p) {
  return validatePolicy(p, systemZoneDatabase());
}

std::vector<PolicyError> validatePolicy(const Policy& p, const ZoneDatabase& zones) {
  std::vector<PolicyError> errors;
  Validator(errors, zones).run(p);
  return errors;
}

Result<Policy> parsePolicy(const bj::value& doc, std::vector<PolicyError>* errors) {
  return parsePolicy(doc, errors, systemZoneDatabase());
}

Result<Policy> parsePolicy(const bj::value& doc, std::vector<PolicyError>* errors,
                           const ZoneDatabase& zones) {
  std::vector<PolicyError> found;
  Policy p = defaultPolicy();
  Reader(found).policy(doc, p);
  Validator(found, zones).run(p);
  if (errors != nullptr) *errors = found;
  if (found.empty()) return p;
  std::string message = "invalid policy: ";
  for (size_t i = 0; i < found.size(); ++i) {
    if (i > 0) message += "; ";
    message += (found[i].path.empty() ? "/" : found[i].path) + ": " + found[i].reason;
  }
  return dataError(message);
}

bj::value toJson(const Policy& p) {
  const NamingPolicy& n = p.naming;
  bj::object naming{{"sam_account_name", ruleJson(n.sam_account_name)},
                    {"user_principal_name", ruleJson(n.user_principal_name)},
                    {"mail", ruleJson(n.mail)},
                    {"display_name", ruleJson(n.display_name)},
                    {"cn", ruleJson(n.cn)},
                    {"upn_suffix", n.upn_suffix},
                    {"mail_domain", n.mail_domain}};

  bj::array placement_rules;
  for (const auto& r : p.placement.rules) {
    placement_rules.push_back(bj::object{{"when", conditionJson(r.when)}, {"ou", r.ou}});
  }
  bj::object placement{{"default_ou", p.placement.default_ou},
                       {"rules", std::move(placement_rules)},
                       {"leavers_ou", p.placement.leavers_ou},
                       {"create_missing_ous", p.placement.create_missing_ous}};

  bj::array groups;
  for (const auto& g : p.groups) {
    groups.push_back(
        bj::object{{"when", conditionJson(g.when)}, {"groups", bj::value_from(g.groups)}});
  }

  const LifecyclePolicy& l = p.lifecycle;
  bj::object lifecycle{{"time_zone", l.time_zone},
                       {"prehire_days", l.prehire_days},
                       {"leave_disables", l.leave_disables},
                       {"leaver_remove_rule_groups", l.leaver_remove_rule_groups},
                       {"leaver_move_to_leavers_ou", l.leaver_move_to_leavers_ou},
                       {"leaver_hide_from_address_lists", l.leaver_hide_from_address_lists},
                       {"leaver_set_account_expires", l.leaver_set_account_expires},
                       {"delete_after_days", optionalJson(l.delete_after_days)},
                       {"name_reuse_days", optionalJson(l.name_reuse_days)}};

  bj::object types;
  for (const auto& [type, etp] : p.employment_types) {
    types[type] = bj::object{{"end_date_required", etp.end_date_required},
                             {"max_days", optionalJson(etp.max_days)}};
  }

  bj::object mailbox{{"mode", p.mailbox.mode},
                     {"kind", p.mailbox.kind},
                     {"remote_routing_domain", p.mailbox.remote_routing_domain},
                     {"keep_old_addresses", p.mailbox.keep_old_addresses}};

  const ThresholdPolicy& t = p.thresholds;
  bj::object thresholds{{"disables", thresholdJson(t.disables)},
                        {"deletes", thresholdJson(t.deletes)},
                        {"moves", thresholdJson(t.moves)},
                        {"group_removals", thresholdJson(t.group_removals)},
                        {"min_population_for_percent", t.min_population_for_percent}};
  if (t.window) {
    thresholds["window"] = bj::object{{"minutes", t.window->minutes},
                                      {"max_disables", optionalJson(t.window->max_disables)},
                                      {"max_deletes", optionalJson(t.window->max_deletes)}};
  } else {
    thresholds["window"] = nullptr;
  }

  return bj::object{{"version", p.version},
                    {"naming", std::move(naming)},
                    {"placement", std::move(placement)},
                    {"groups", std::move(groups)},
                    {"lifecycle", std::move(lifecycle)},
                    {"employment_types", std::move(types)},
                    {"mailbox", std::move(mailbox)},
                    {"thresholds", std::move(thresholds)}};
}

}  // namespace tenure::policy

namespace tenure::policy {

Result<int64_t> nextCronRunMs(const Policy& p, const std::string& cron, int64_t after_ms) {
  ASSIGN_OR_RETURN(CronExpression expr, CronExpression::parse(cron));
  ASSIGN_OR_RETURN(TimeZone zone, loadZone(systemZoneDatabase(), p.lifecycle.time_zone));
  // Floor to the second: a run is never due before the instant it was computed from.
  ASSIGN_OR_RETURN(int64_t next_s, expr.nextAfter(after_ms / 1000, zone));
  return next_s * 1000;
}

hr::EmploymentRules employmentRules(const Policy& p) {
  hr::EmploymentRules rules;
  for (const auto& [type, rule] : p.employment_types) {
    rules.by_type[type] = hr::EmploymentRule{rule.end_date_required, rule.max_days};
  }
  return rules;
}

Policy agentPolicy(const Policy& p) {
  Policy out = p;
  out.thresholds.window.reset();
  return out;
}

}  // namespace tenure::policy
