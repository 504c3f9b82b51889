#include "controlplane/scim/scim_user.h"

#include <boost/json.hpp>

#include <cstdint>
#include <vector>

#include "common/base/time_zone.h"

namespace tenure::cp::scim {

namespace bj = boost::json;

namespace {

ScimError invalid(std::string detail, std::string type = "invalidValue") {
  return ScimError{400, std::move(type), std::move(detail)};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && asciiLowerCopy(a) == asciiLowerCopy(b);
}

// The key of `o` equal to `name` ignoring case, or nullptr.
bj::value* findCi(bj::object& o, std::string_view name) {
  for (auto& kv : o) {
    if (iequals(kv.key(), name)) return &kv.value();
  }
  return nullptr;
}
const bj::value* findCi(const bj::object& o, std::string_view name) {
  for (const auto& kv : o) {
    if (iequals(kv.key(), name)) return &kv.value();
  }
  return nullptr;
}
void eraseCi(bj::object& o, std::string_view name) {
  for (auto it = o.begin(); it != o.end();) {
    if (iequals(it->key(), name)) {
      it = o.erase(it);
    } else {
      ++it;
    }
  }
}

enum class Kind { kString, kBool, kObjectOfStrings, kArrayOfObjects, kManager, kStringMap };

struct Attr {
  const char* name;
  Kind kind;
};

// What Tenure keeps of each schema. Sub-attributes of complex values are kept as sent (strings).
constexpr Attr kCoreAttrs[] = {
    {"userName", Kind::kString},
    {"externalId", Kind::kString},
    {"name", Kind::kObjectOfStrings},
    {"displayName", Kind::kString},
    {"nickName", Kind::kString},
    {"profileUrl", Kind::kString},
    {"title", Kind::kString},
    {"userType", Kind::kString},
    {"preferredLanguage", Kind::kString},
    {"locale", Kind::kString},
    {"timezone", Kind::kString},
    {"active", Kind::kBool},
    {"emails", Kind::kArrayOfObjects},
    {"phoneNumbers", Kind::kArrayOfObjects},
    {"addresses", Kind::kArrayOfObjects},
};
constexpr Attr kEnterpriseAttrs[] = {
    {"employeeNumber", Kind::kString}, {"costCenter", Kind::kString},
    {"organization", Kind::kString},   {"division", Kind::kString},
    {"department", Kind::kString},     {"manager", Kind::kManager},
};
constexpr Attr kTenureAttrs[] = {
    {"startDate", Kind::kString}, {"endDate", Kind::kString}, {"employmentType", Kind::kString},
    {"location", Kind::kString},  {"status", Kind::kString},  {"preferredName", Kind::kString},
    {"custom", Kind::kStringMap},
};

// Checks `v` against `kind` and writes the normalized value to out[name]; null means absent.
std::optional<ScimError> keep(const Attr& a, const bj::value& v, bj::object& out,
                              const std::string& where) {
  const std::string path = where.empty() ? a.name : where + ":" + a.name;
  if (v.is_null()) return std::nullopt;
  switch (a.kind) {
    case Kind::kString:
      if (!v.is_string()) return invalid(path + " must be a string");
      out[a.name] = v;
      return std::nullopt;
    case Kind::kBool:
      if (v.is_bool()) {
        out[a.name] = v;
      } else if (v.is_string() && iequals(v.get_string(), "true")) {
        out[a.name] = true;  // Entra sends "True" / "False" in PATCH values
      } else if (v.is_string() && iequals(v.get_string(), "false")) {
        out[a.name] = false;
      } else {
        return invalid(path + " must be a boolean");
      }
      return std::nullopt;
    case Kind::kObjectOfStrings:
    case Kind::kStringMap: {
      if (!v.is_object()) return invalid(path + " must be an object");
      bj::object o;
      for (const auto& kv : v.get_object()) {
        if (kv.value().is_null()) continue;
        if (!kv.value().is_string()) {
          return invalid(path + "." + std::string(kv.key()) + " must be a string");
        }
        o[kv.key()] = kv.value();
      }
      out[a.name] = std::move(o);
      return std::nullopt;
    }
    case Kind::kArrayOfObjects: {
      if (!v.is_array()) return invalid(path + " must be an array");
      for (const auto& e : v.get_array()) {
        if (!e.is_object()) return invalid(path + " must be an array of objects");
      }
      out[a.name] = v;
      return std::nullopt;
    }
    case Kind::kManager: {
      // RFC 7643 says an object with "value"; some clients send the id alone.
      bj::object m;
      if (v.is_string()) {
        m["value"] = v;
      } else if (v.is_object()) {
        const bj::value* id = findCi(v.get_object(), "value");
        if (id && !id->is_null() && !id->is_string())
          return invalid(path + ".value must be a string");
        if (id && id->is_string()) m["value"] = *id;
        if (const bj::value* dn = findCi(v.get_object(), "displayName"); dn && dn->is_string()) {
          m["displayName"] = *dn;
        }
      } else {
        return invalid(path + " must be an object with a value");
      }
      if (!m.contains("value") || m["value"].get_string().empty()) return std::nullopt;
      out[a.name] = std::move(m);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

template <size_t N>
std::optional<ScimError> keepAll(const Attr (&attrs)[N], const bj::object& in, bj::object& out,
                                 const std::string& where) {
  for (const auto& a : attrs) {
    if (const bj::value* v = findCi(in, a.name)) {
      if (auto e = keep(a, *v, out, where)) return e;
    }
  }
  return std::nullopt;
}

// ---- PATCH ---------------------------------------------------------------------------------

struct PatchPath {
  std::string urn;  // extension schema URN, "" for core attributes
  std::string attr;
  std::string filter_attr;  // from `attr[filter_attr eq "filter_value"]`
  std::string filter_value;
  bool has_filter = false;
  std::string sub;
};

std::string trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::optional<ScimError> parsePath(std::string_view path, PatchPath& out) {
  std::string_view rest = path;
  for (const char* urn : {kEnterpriseSchema, kTenureSchema, kUserSchema}) {
    std::string_view u(urn);
    if (rest.size() > u.size() && iequals(rest.substr(0, u.size()), u) && rest[u.size()] == ':') {
      if (urn != kUserSchema) out.urn = urn;
      rest.remove_prefix(u.size() + 1);
      break;
    }
    if (iequals(rest, u))
      return invalid("path \"" + std::string(path) + "\" names a schema, not an attribute",
                     "invalidPath");
  }
  size_t stop = rest.find_first_of("[.");
  out.attr = trim(rest.substr(0, stop));
  if (out.attr.empty())
    return invalid("path \"" + std::string(path) + "\" is not valid", "invalidPath");
  if (stop == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(stop);
  if (rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos)
      return invalid("path \"" + std::string(path) + "\": missing ]", "invalidPath");
    std::string f = trim(rest.substr(1, close - 1));
    std::string lower = asciiLowerCopy(f);
    size_t eq = lower.find(" eq ");
    if (eq == std::string::npos) {
      return invalid(
          "path \"" + std::string(path) + "\": only `attr eq \"value\"` filters are supported",
          "invalidFilter");
    }
    out.filter_attr = trim(f.substr(0, eq));
    std::string value = trim(f.substr(eq + 4));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    out.filter_value = value;
    out.has_filter = true;
    rest.remove_prefix(close + 1);
  }
  if (!rest.empty()) {
    if (rest.front() != '.' || rest.size() < 2)
      return invalid("path \"" + std::string(path) + "\" is not valid", "invalidPath");
    out.sub = trim(rest.substr(1));
  }
  return std::nullopt;
}

bool matchesFilter(const bj::value& element, const PatchPath& p) {
  if (!element.is_object()) return false;
  const bj::value* v = findCi(element.get_object(), p.filter_attr);
  if (!v) return false;
  if (v->is_string()) return iequals(v->get_string(), p.filter_value);
  if (v->is_bool()) return (v->get_bool() ? "true" : "false") == asciiLowerCopy(p.filter_value);
  return bj::serialize(*v) == p.filter_value;
}

// The key to write `name` under in `o`: the existing spelling when there is one.
std::string keyFor(const bj::object& o, const std::string& name) {
  for (const auto& kv : o) {
    if (iequals(kv.key(), name)) return std::string(kv.key());
  }
  return name;
}

void mergeInto(bj::object& target, const bj::object& from) {
  for (const auto& kv : from) target[keyFor(target, std::string(kv.key()))] = kv.value();
}

std::optional<ScimError> applyOne(bj::object& resource, const std::string& op, const PatchPath& p,
                                  const bj::value* value) {
  const bool remove = op == "remove";
  if (!remove && (value == nullptr)) return invalid("op " + op + " needs a value");
  if (!remove && value->is_null()) return applyOne(resource, "remove", p, nullptr);
  bj::object* container = &resource;
  if (!p.urn.empty()) {
    bj::value* ext = findCi(resource, p.urn);
    if (!ext || !ext->is_object()) {
      if (remove) return std::nullopt;
      resource[p.urn] = bj::object();
      ext = &resource[p.urn];
    }
    container = &ext->get_object();
  }
  const std::string key = keyFor(*container, p.attr);
  bj::value* current = container->if_contains(key);

  if (!p.has_filter && p.sub.empty()) {
    if (remove) {
      container->erase(key);
    } else if (current && current->is_array() && op == "add") {
      if (value->is_array()) {
        for (const auto& e : value->get_array()) current->get_array().push_back(e);
      } else {
        current->get_array().push_back(*value);
      }
    } else if (current && current->is_object() && value->is_object()) {
      mergeInto(current->get_object(), value->get_object());
    } else {
      (*container)[key] = *value;
    }
    return std::nullopt;
  }

  if (!p.has_filter) {
    if (!current || current->is_null()) {
      if (remove) return std::nullopt;
      (*container)[key] = bj::object();
      current = container->if_contains(key);
    }
    if (!current->is_object()) return invalid(p.attr + " has no sub-attributes", "invalidPath");
    bj::object& o = current->get_object();
    if (remove) {
      eraseCi(o, p.sub);
    } else {
      o[keyFor(o, p.sub)] = *value;
    }
    return std::nullopt;
  }

  if (current && !current->is_array())
    return invalid(p.attr + " is not multi-valued", "invalidPath");
  if (!current) {
    if (remove) return std::nullopt;
    (*container)[key] = bj::array();
    current = container->if_contains(key);
  }
  bj::array& arr = current->get_array();
  bool matched = false;
  for (auto it = arr.begin(); it != arr.end();) {
    if (!matchesFilter(*it, p)) {
      ++it;
      continue;
    }
    matched = true;
    bj::object& e = it->get_object();
    if (remove && p.sub.empty()) {
      it = arr.erase(it);
      continue;
    }
    if (remove) {
      eraseCi(e, p.sub);
    } else if (!p.sub.empty()) {
      e[keyFor(e, p.sub)] = *value;
    } else if (value->is_object()) {
      mergeInto(e, value->get_object());
    } else {
      return invalid("the value for " + p.attr + "[...] must be an object");
    }
    ++it;
  }
  if (!matched && !remove) {
    // Entra replaces `emails[type eq "work"].value` on users that have no work e-mail yet.
    bj::object e;
    e[p.filter_attr] = p.filter_value;
    if (!p.sub.empty()) {
      e[p.sub] = *value;
    } else if (value->is_object()) {
      mergeInto(e, value->get_object());
    } else {
      return invalid("the value for " + p.attr + "[...] must be an object");
    }
    arr.push_back(std::move(e));
  }
  return std::nullopt;
}

std::optional<ScimError> applyPathString(bj::object& resource, const std::string& op,
                                         std::string_view path, const bj::value* value) {
  PatchPath p;
  if (auto e = parsePath(path, p)) return e;
  return applyOne(resource, op, p, value);
}

std::string str(const bj::object& o, std::string_view key) {
  const bj::value* v = findCi(o, key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const bj::object* objectAt(const bj::object& o, std::string_view key) {
  const bj::value* v = findCi(o, key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

}  // namespace

std::string asciiLowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<ScimError> sanitizeUser(const bj::value& in, bj::object& out) {
  if (!in.is_object()) return invalid("a User must be a JSON object", "invalidSyntax");
  const bj::object& o = in.get_object();
  out = bj::object();
  if (const bj::value* s = findCi(o, "schemas"); s && !s->is_array()) {
    return invalid("schemas must be an array", "invalidSyntax");
  }
  if (auto e = keepAll(kCoreAttrs, o, out, "")) return e;
  for (const auto& [urn, attrs, count] :
       {std::tuple{kEnterpriseSchema, kEnterpriseAttrs, std::size(kEnterpriseAttrs)},
        std::tuple{kTenureSchema, kTenureAttrs, std::size(kTenureAttrs)}}) {
    const bj::value* ext = findCi(o, urn);
    if (!ext || ext->is_null()) continue;
    if (!ext->is_object()) return invalid(std::string(urn) + " must be an object");
    bj::object kept;
    for (size_t i = 0; i < count; ++i) {
      if (const bj::value* v = findCi(ext->get_object(), attrs[i].name)) {
        if (auto e = keep(attrs[i], *v, kept, urn)) return e;
      }
    }
    if (!kept.empty()) out[urn] = std::move(kept);
  }
  return std::nullopt;
}

std::optional<ScimError> applyPatch(bj::object& resource, const bj::value& body) {
  if (!body.is_object()) return invalid("a PatchOp must be a JSON object", "invalidSyntax");
  const bj::value* ops = findCi(body.get_object(), "Operations");
  if (!ops || !ops->is_array())
    return invalid("a PatchOp needs an Operations array", "invalidSyntax");
  for (const auto& opv : ops->get_array()) {
    if (!opv.is_object()) return invalid("each operation must be an object", "invalidSyntax");
    const bj::object& op_obj = opv.get_object();
    std::string op = asciiLowerCopy(str(op_obj, "op"));
    if (op != "add" && op != "replace" && op != "remove") {
      return invalid("op must be add, replace or remove", "invalidSyntax");
    }
    const bj::value* value = findCi(op_obj, "value");
    const bj::value* path = findCi(op_obj, "path");
    if (path && !path->is_null()) {
      if (!path->is_string()) return invalid("path must be a string", "invalidPath");
      if (auto e = applyPathString(resource, op, path->get_string(), value)) return e;
      continue;
    }
    if (op == "remove") return invalid("remove needs a path", "noTarget");
    if (!value || !value->is_object()) {
      return invalid("an operation without a path needs an object value", "invalidValue");
    }
    for (const auto& kv : value->get_object()) {
      std::string key(kv.key());
      bool is_ext = false;
      for (const char* urn : {kEnterpriseSchema, kTenureSchema}) {
        if (!iequals(key, urn)) continue;
        is_ext = true;
        if (!kv.value().is_object()) return invalid(key + " must be an object");
        for (const auto& inner : kv.value().get_object()) {
          if (auto e =
                  applyPathString(resource, op, std::string(urn) + ":" + std::string(inner.key()),
                                  &inner.value())) {
            return e;
          }
        }
      }
      if (is_ext || iequals(key, "schemas") || iequals(key, "id") || iequals(key, "meta")) continue;
      if (auto e = applyPathString(resource, op, key, &kv.value())) return e;
    }
  }
  return std::nullopt;
}

std::optional<ScimError> userKeys(const bj::object& r, UserKeys& k) {
  // Trimmed as the HR validation trims them, so " E1" and "E1" are one person, not two Users.
  k.user_name = trim(str(r, "userName"));
  k.external_id = str(r, "externalId");
  if (k.user_name.empty()) return invalid("userName is required");
  const bj::object* ent = objectAt(r, kEnterpriseSchema);
  k.employee_id = ent ? trim(str(*ent, "employeeNumber")) : "";
  if (k.employee_id.empty()) k.employee_id = trim(k.external_id);
  if (k.employee_id.empty()) {
    return invalid(std::string(kEnterpriseSchema) +
                   ":employeeNumber (or externalId) is required: it is the person's employee ID");
  }
  if (const bj::object* m = ent ? objectAt(*ent, "manager") : nullptr)
    k.manager_ref = str(*m, "value");
  const bj::value* active = findCi(r, "active");
  k.active = !(active && active->is_bool() && !active->get_bool());
  return std::nullopt;
}

hr::HrRecord toHrRecord(const bj::object& r, const std::string& manager_employee_id,
                        bool deprovision, const std::string& today) {
  hr::HrRecord rec;
  UserKeys k;
  (void)userKeys(r, k);
  rec.employee_id = k.employee_id;
  if (const bj::object* name = objectAt(r, "name")) {
    rec.given_name = str(*name, "givenName");
    rec.family_name = str(*name, "familyName");
  }
  rec.title = str(r, "title");
  rec.manager_id = manager_employee_id;
  const bj::object* ent = objectAt(r, kEnterpriseSchema);
  if (ent) {
    rec.department = str(*ent, "department");
    for (const auto& [attr, custom] :
         {std::pair{"costCenter", "cost_center"}, std::pair{"organization", "organization"},
          std::pair{"division", "division"}}) {
      if (std::string v = str(*ent, attr); !v.empty()) rec.custom[custom] = v;
    }
  }
  const bj::object* ten = objectAt(r, kTenureSchema);
  rec.preferred_name = ten ? str(*ten, "preferredName") : "";
  if (rec.preferred_name.empty()) rec.preferred_name = str(r, "nickName");
  if (ten) {
    rec.location = str(*ten, "location");
    rec.employment_type = str(*ten, "employmentType");
    rec.start_date = str(*ten, "startDate");
    rec.end_date = str(*ten, "endDate");
    rec.status = str(*ten, "status");
    if (const bj::object* custom = objectAt(*ten, "custom")) {
      for (const auto& kv : *custom) {
        if (kv.value().is_string())
          rec.custom[std::string(kv.key())] = std::string(kv.value().get_string());
      }
    }
  }
  if (deprovision) {
    // Terminated at the start of today: the last working day was yesterday. A hire that has not
    // started yet keeps its dates; status terminated before the start date means rescinded.
    rec.status = "terminated";
    auto t = parseIsoDate(today);
    if (t.isOk()) {
      const std::string yesterday = formatIsoDate(*t - 1);
      const bool started = rec.start_date.empty() || rec.start_date <= yesterday;
      if (started) {
        if (rec.end_date.empty() || rec.end_date > yesterday) rec.end_date = yesterday;
      } else if (rec.start_date == today) {
        // No end date can precede a start date of today. Without one, status terminated takes
        // effect now; externals must keep an end date, so theirs ends with today.
        const bool employee = rec.employment_type.empty() || rec.employment_type == "employee";
        rec.end_date = employee ? "" : today;
      } else if (rec.end_date.empty()) {
        rec.end_date = rec.start_date;
      }
    }
  }
  return rec;
}

std::string scimPathOfHrField(std::string_view f) {
  static const std::pair<const char*, std::string> kPaths[] = {
      {"employee_id", std::string(kEnterpriseSchema) + ":employeeNumber"},
      {"given_name", "name.givenName"},
      {"family_name", "name.familyName"},
      {"preferred_name", std::string(kTenureSchema) + ":preferredName (or nickName)"},
      {"department", std::string(kEnterpriseSchema) + ":department"},
      {"title", "title"},
      {"location", std::string(kTenureSchema) + ":location"},
      {"manager_id", std::string(kEnterpriseSchema) + ":manager"},
      {"employment_type", std::string(kTenureSchema) + ":employmentType"},
      {"start_date", std::string(kTenureSchema) + ":startDate"},
      {"end_date", std::string(kTenureSchema) + ":endDate"},
      {"status", std::string(kTenureSchema) + ":status"},
  };
  for (const auto& [hr, scim] : kPaths) {
    if (f == hr) return scim;
  }
  return std::string(kTenureSchema) + ":custom." + std::string(f);
}

// ---- discovery -----------------------------------------------------------------------------

namespace {

bj::object attr(const char* name, const char* type, const char* description, bool required = false,
                const char* uniqueness = "none", bool multi = false) {
  return bj::object{{"name", name},
                    {"type", type},
                    {"multiValued", multi},
                    {"description", description},
                    {"required", required},
                    {"caseExact", false},
                    {"mutability", "readWrite"},
                    {"returned", "default"},
                    {"uniqueness", uniqueness}};
}

bj::object complexAttr(const char* name, const char* description, bj::array subs,
                       bool multi = false) {
  bj::object a = attr(name, "complex", description, false, "none", multi);
  a["subAttributes"] = std::move(subs);
  return a;
}

bj::object schemaDoc(const char* id, const char* name, const char* description, bj::array attrs,
                     const std::string& base_url) {
  return bj::object{
      {"schemas", bj::array{"urn:ietf:params:scim:schemas:core:2.0:Schema"}},
      {"id", id},
      {"name", name},
      {"description", description},
      {"attributes", std::move(attrs)},
      {"meta", bj::object{{"resourceType", "Schema"}, {"location", base_url + "/Schemas/" + id}}}};
}

bj::array multiValuedSubs() {
  return bj::array{attr("value", "string", "The value."), attr("type", "string", "work, home, ..."),
                   attr("primary", "boolean", "The primary value.")};
}

}  // namespace

bj::object serviceProviderConfig(const std::string& base_url, size_t max_operations,
                                 size_t max_payload_bytes, size_t max_results) {
  return bj::object{
      {"schemas", bj::array{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"}},
      {"documentationUri", "https://github.com/tenure/tenure/blob/main/docs/scim.md"},
      {"patch", bj::object{{"supported", true}}},
      {"bulk", bj::object{{"supported", true},
                          {"maxOperations", max_operations},
                          {"maxPayloadSize", max_payload_bytes}}},
      {"filter", bj::object{{"supported", true}, {"maxResults", max_results}}},
      {"changePassword", bj::object{{"supported", false}}},
      {"sort", bj::object{{"supported", false}}},
      {"etag", bj::object{{"supported", true}}},
      {"authenticationSchemes",
       bj::array{bj::object{{"type", "oauthbearertoken"},
                            {"name", "Tenant API token"},
                            {"description", "Authorization: Bearer <the tenant's API token>"},
                            {"primary", true}}}},
      {"meta", bj::object{{"resourceType", "ServiceProviderConfig"},
                          {"location", base_url + "/ServiceProviderConfig"}}}};
}

bj::array schemaDocuments(const std::string& base_url) {
  bj::array core{
      attr("userName", "string", "Unique identifier for the user, often a login name.", true,
           "server"),
      attr("externalId", "string",
           "The client's identifier; the employee ID when employeeNumber is absent."),
      complexAttr("name", "The person's name.",
                  bj::array{attr("givenName", "string", "Given name (HR given_name)."),
                            attr("familyName", "string", "Family name (HR family_name)."),
                            attr("formatted", "string", "Full name, kept as sent.")}),
      attr("displayName", "string",
           "Kept as sent; the policy computes the directory display name."),
      attr("nickName", "string", "Preferred name when the tenure extension has none."),
      attr("title", "string", "Job title (HR title)."),
      attr("userType", "string", "Kept as sent."),
      attr("preferredLanguage", "string", "Kept as sent."),
      attr("locale", "string", "Kept as sent."),
      attr("timezone", "string", "Kept as sent."),
      attr("active", "boolean", "false terminates the person effective today (deprovisioning)."),
      complexAttr("emails", "E-mail addresses, kept as sent.", multiValuedSubs(), true),
      complexAttr("phoneNumbers", "Phone numbers, kept as sent.", multiValuedSubs(), true),
      complexAttr(
          "addresses", "Addresses, kept as sent.",
          bj::array{attr("type", "string", "work, home, ..."), attr("locality", "string", "City."),
                    attr("country", "string", "Country.")},
          true),
  };
  bj::array enterprise{
      attr("employeeNumber", "string",
           "The employee ID: the anchor of the person's account for life; immutable.", false,
           "server"),
      attr("costCenter", "string", "HR custom attribute cost_center."),
      attr("organization", "string", "HR custom attribute organization."),
      attr("division", "string", "HR custom attribute division."),
      attr("department", "string", "Department (HR department)."),
      complexAttr("manager", "The manager: value is the id of the manager's User.",
                  bj::array{attr("value", "string", "The manager's SCIM id (bulkId:... in Bulk)."),
                            attr("displayName", "string", "Kept as sent.")}),
  };
  bj::array tenure{
      attr("startDate", "string", "First working day, YYYY-MM-DD (HR start_date)."),
      attr("endDate", "string",
           "Last working day, YYYY-MM-DD (HR end_date); required for externals."),
      attr("employmentType", "string",
           "employee | contractor | intern | vendor | volunteer | partner."),
      attr("location", "string", "Work location (HR location)."),
      attr("status", "string", "active | leave | terminated | rescinded (active=false wins)."),
      attr("preferredName", "string", "Preferred first name (HR preferred_name)."),
      attr("custom", "complex", "HR custom attributes: an object of strings."),
  };
  return bj::array{
      schemaDoc(kUserSchema, "User", "User Account", std::move(core), base_url),
      schemaDoc(kEnterpriseSchema, "EnterpriseUser", "Enterprise User", std::move(enterprise),
                base_url),
      schemaDoc(kTenureSchema, "TenureUser", "HR fields Tenure needs that SCIM lacks",
                std::move(tenure), base_url),
  };
}

bj::object userResourceType(const std::string& base_url) {
  return bj::object{
      {"schemas", bj::array{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}},
      {"id", "User"},
      {"name", "User"},
      {"endpoint", "/Users"},
      {"description", "A person from the HR system of record"},
      {"schema", kUserSchema},
      {"schemaExtensions", bj::array{bj::object{{"schema", kEnterpriseSchema}, {"required", false}},
                                     bj::object{{"schema", kTenureSchema}, {"required", false}}}},
      {"meta", bj::object{{"resourceType", "ResourceType"},
                          {"location", base_url + "/ResourceTypes/User"}}}};
}

}  // namespace tenure::cp::scim
