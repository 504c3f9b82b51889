#include "common/policy/policy.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace tenure::policy {
namespace {

namespace bj = boost::json;

bj::value parseJson(std::string_view text) { return bj::parse(text); }

std::vector<PolicyError> errorsOf(std::string_view text) {
  std::vector<PolicyError> errors;
  auto p = parsePolicy(parseJson(text), &errors);
  EXPECT_FALSE(p.isOk()) << text;
  if (!p.isOk()) {
    EXPECT_EQ(p.status().errorClass(), ErrorClass::kData);
  }
  return errors;
}

bool hasError(const std::vector<PolicyError>& errors, std::string_view path,
              std::string_view reason) {
  for (const auto& e : errors) {
    if (e.path == path && e.reason.find(reason) != std::string::npos) return true;
  }
  return false;
}

std::string dump(const std::vector<PolicyError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.toString() + "\n";
  return out;
}

TEST(DefaultPolicy, IsValidAndMatchesTheDocumentedDefaults) {
  const Policy p = defaultPolicy();
  EXPECT_TRUE(validatePolicy(p).empty()) << dump(validatePolicy(p));
  EXPECT_EQ(p.naming.sam_account_name.max_length, 20u);
  EXPECT_TRUE(p.naming.sam_account_name.unique);
  EXPECT_TRUE(p.naming.mail.unique);
  EXPECT_EQ(p.lifecycle.time_zone, "UTC");
  EXPECT_EQ(p.lifecycle.prehire_days, 7);
  EXPECT_FALSE(p.lifecycle.delete_after_days.has_value());
  EXPECT_FALSE(p.lifecycle.name_reuse_days.has_value());  // never reused
  EXPECT_EQ(p.thresholds.disables, (Threshold{.max_count = 50, .max_percent = 10.0}));
  EXPECT_EQ(p.thresholds.deletes, (Threshold{.max_count = 10, .max_percent = 2.0}));
  EXPECT_EQ(p.thresholds.moves, (Threshold{.max_count = 100, .max_percent = 20.0}));
  EXPECT_EQ(p.thresholds.group_removals, (Threshold{.max_count = 200, .max_percent = 20.0}));
  ASSERT_EQ(p.employment_types.size(), 6u);
  EXPECT_FALSE(p.employment_types.at("employee").end_date_required);
  EXPECT_FALSE(p.employment_types.at("employee").max_days.has_value());
  for (const char* type : {"contractor", "intern", "vendor", "volunteer", "partner"}) {
    EXPECT_TRUE(p.employment_types.at(type).end_date_required) << type;
  }
  EXPECT_EQ(p.employment_types.at("contractor").max_days, 730);
  EXPECT_EQ(p.employment_types.at("intern").max_days, 365);
  EXPECT_EQ(p.employment_types.at("vendor").max_days, 730);
  EXPECT_EQ(p.employment_types.at("volunteer").max_days, 365);
  EXPECT_EQ(p.employment_types.at("partner").max_days, 730);
}

TEST(ParsePolicy, EmptyDocumentIsTheDefaultPolicy) {
  std::vector<PolicyError> errors;
  auto p = parsePolicy(parseJson("{}"), &errors);
  ASSERT_TRUE(p.isOk()) << p.status().toString();
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(*p, defaultPolicy());
}

TEST(ParsePolicy, MissingFieldsKeepTheirDefaultsFieldByField) {
  auto p = parsePolicy(parseJson(R"({
    "naming": {"sam_account_name": {"template": "{first(given_name, 2)}{family_name}"},
               "upn_suffix": "example.com"},
    "employment_types": {"contractor": {"max_days": 365}},
    "thresholds": {"deletes": {"max_count": 3}, "moves": null},
    "lifecycle": {"time_zone": "Europe/Berlin", "delete_after_days": 90}
  })"),
                       nullptr);
  ASSERT_TRUE(p.isOk()) << p.status().toString();
  const Policy d = defaultPolicy();
  EXPECT_EQ(p->naming.sam_account_name.template_text, "{first(given_name, 2)}{family_name}");
  EXPECT_EQ(p->naming.sam_account_name.transforms, d.naming.sam_account_name.transforms);
  EXPECT_EQ(p->naming.sam_account_name.max_length, 20u);
  EXPECT_TRUE(p->naming.sam_account_name.unique);
  EXPECT_EQ(p->naming.upn_suffix, "example.com");
  EXPECT_TRUE(p->employment_types.at("contractor").end_date_required);
  EXPECT_EQ(p->employment_types.at("contractor").max_days, 365);
  EXPECT_EQ(p->employment_types.at("intern"), d.employment_types.at("intern"));
  EXPECT_EQ(p->thresholds.deletes, (Threshold{.max_count = 3, .max_percent = 2.0}));
  EXPECT_EQ(p->thresholds.moves, Threshold{});
  EXPECT_EQ(p->lifecycle.time_zone, "Europe/Berlin");
  EXPECT_EQ(p->lifecycle.delete_after_days, 90);
}

TEST(ParsePolicy, WindowThresholdDefaultsOverridesAndSwitchesOff) {
  const Policy d = defaultPolicy();
  ASSERT_TRUE(d.thresholds.window.has_value());
  EXPECT_EQ(*d.thresholds.window,
            (WindowThreshold{.minutes = 60, .max_disables = 50, .max_deletes = 10}));

  auto p = parsePolicy(
      parseJson(R"({"thresholds": {"window": {"minutes": 30, "max_deletes": null}}})"), nullptr);
  ASSERT_TRUE(p.isOk()) << p.status().toString();
  EXPECT_EQ(*p->thresholds.window,
            (WindowThreshold{.minutes = 30, .max_disables = 50, .max_deletes = std::nullopt}));

  auto off = parsePolicy(parseJson(R"({"thresholds": {"window": null}})"), nullptr);
  ASSERT_TRUE(off.isOk()) << off.status().toString();
  EXPECT_FALSE(off->thresholds.window.has_value());
  const bj::value doc = toJson(*off);
  EXPECT_TRUE(doc.at("thresholds").at("window").is_null());
  EXPECT_EQ(parsePolicy(doc, nullptr).value(), *off);

  const auto errors = errorsOf(R"({"thresholds": {"window":
      {"minutes": 0, "max_disables": -1, "max_deletes": "5", "hours": 1}}})");
  EXPECT_TRUE(hasError(errors, "/thresholds/window/minutes", "must be between 1 and 10080"))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/thresholds/window/max_disables", "must be 0 or more"))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/thresholds/window/max_deletes", "must be a whole number"))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/thresholds/window/hours", "unknown field")) << dump(errors);
  EXPECT_EQ(errors.size(), 4u) << dump(errors);
  EXPECT_TRUE(parsePolicy(parseJson(R"({"thresholds": {"window": {"minutes": 10080}}})"), nullptr)
                  .isOk());
}

TEST(ParsePolicy, ReportsEveryProblemWithItsJsonPath) {
  const auto errors = errorsOf(R"({
    "naming": {"sam_acount_name": {}, "mail": {"template": "{given_name}.{famly_name}"}},
    "placement": {"rules": [
      {"when": {"department": "Sales"}, "ou": "OU=Sales,DC=example,DC=com"},
      {"when": {"departmnet": "IT"}, "ou": "Sales"}
    ]},
    "groups": [{"when": {"department": []}, "groups": ["OU=NotAGroup,DC=example,DC=com"]}],
    "lifecycle": {"time_zone": "Europe/Berln", "prehire_days": "7"},
    "employment_types": {"contrator": {"max_days": 30}},
    "mailbox": {"mode": "sometimes"},
    "thresholds": {"disables": {"max_percent": 150}, "deletes": {"max_count": -1}},
    "colour": "blue"
  })");
  EXPECT_TRUE(hasError(errors, "/naming/sam_acount_name", "unknown field")) << dump(errors);
  EXPECT_TRUE(
      hasError(errors, "/naming/mail/template", "at character 15: unknown field \"famly_name\""))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/placement/rules/1/when/departmnet", "unknown field"))
      << dump(errors);
  EXPECT_TRUE(
      hasError(errors, "/placement/rules/1/ou", "must be a DN like OU=Sales,DC=example,DC=com"))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/groups/0/when/department", "must list at least one value"))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/groups/0/groups/0", "must be a group DN")) << dump(errors);
  EXPECT_TRUE(hasError(errors, "/lifecycle/time_zone", "unknown time zone \"Europe/Berln\""))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/lifecycle/prehire_days", "must be a whole number"))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/employment_types/contrator", "unknown employment type"))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/mailbox/mode", "must be \"auto\" or \"off\"")) << dump(errors);
  EXPECT_TRUE(hasError(errors, "/thresholds/disables/max_percent", "must be between 0 and 100"))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/thresholds/deletes/max_count", "must be 0 or more"))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/colour", "unknown field")) << dump(errors);
  EXPECT_EQ(errors.size(), 13u) << dump(errors);
}

TEST(ParsePolicy, StatusMessageJoinsTheErrors) {
  auto p = parsePolicy(parseJson(R"({"lifecycle": {"prehire_days": 400}})"), nullptr);
  ASSERT_FALSE(p.isOk());
  EXPECT_EQ(p.status().message(),
            "invalid policy: /lifecycle/prehire_days: must be between 0 and 365");
}

TEST(ParsePolicy, RejectsTemplatesThatReadNamesComputedLater) {
  const auto errors = errorsOf(R"({"naming": {
    "display_name": {"template": "{sam_account_name}"},
    "sam_account_name": {"template": "x{sam_account_name}"}}})");
  EXPECT_TRUE(
      hasError(errors, "/naming/display_name/template", "sam_account_name is not known yet"))
      << dump(errors);
  EXPECT_TRUE(
      hasError(errors, "/naming/sam_account_name/template", "sam_account_name is not known yet"))
      << dump(errors);
}

TEST(ParsePolicy, RejectsLimitsAboveTheDirectorysAndUnknownTransforms) {
  const auto errors = errorsOf(R"({"naming": {
    "sam_account_name": {"max_length": 25, "transforms": ["lower", "lowercase"]},
    "cn": {"max_length": 0}}})");
  EXPECT_TRUE(hasError(errors, "/naming/sam_account_name/max_length", "between 1 and 20"))
      << dump(errors);
  EXPECT_TRUE(
      hasError(errors, "/naming/sam_account_name/transforms/1", "unknown transform \"lowercase\""))
      << dump(errors);
  EXPECT_TRUE(hasError(errors, "/naming/cn/max_length", "between 1 and 64")) << dump(errors);
}

TEST(ParsePolicy, RemoteMailboxesNeedARoutingDomain) {
  const auto errors = errorsOf(R"({"naming": {"mail_domain": "example.com"}})");
  EXPECT_TRUE(hasError(errors, "/mailbox/remote_routing_domain", "is required")) << dump(errors);
  auto ok = parsePolicy(parseJson(R"({"naming": {"mail_domain": "example.com"},
                                     "mailbox": {"kind": "attributes"}})"),
                        nullptr);
  EXPECT_TRUE(ok.isOk()) << ok.status().toString();
}

TEST(ParsePolicy, RejectsMalformedDomainsAndNonObjects) {
  auto errors =
      errorsOf(R"({"naming": {"upn_suffix": "@example.com", "mail_domain": "exa mple.com"}})");
  EXPECT_TRUE(hasError(errors, "/naming/upn_suffix", "must be a domain name")) << dump(errors);
  EXPECT_TRUE(hasError(errors, "/naming/mail_domain", "must be a domain name")) << dump(errors);
  errors = errorsOf("[]");
  EXPECT_TRUE(hasError(errors, "", "must be an object")) << dump(errors);
  errors = errorsOf(R"({"groups": {"when": {}}})");
  EXPECT_TRUE(hasError(errors, "/groups", "must be an array")) << dump(errors);
}

TEST(ParsePolicy, EscapesJsonPointerTokens) {
  const auto errors =
      errorsOf(R"({"placement": {"rules": [{"when": {"a/b~c": "x"}, "ou": "OU=A,DC=x"}]}})");
  EXPECT_TRUE(hasError(errors, "/placement/rules/0/when/a~1b~0c", "unknown field")) << dump(errors);
}

TEST(ParsePolicy, TimeZonesAreCheckedAgainstTheTzDatabase) {
  EXPECT_TRUE(parsePolicy(parseJson(R"({"lifecycle": {"time_zone": "UTC"}})"), nullptr).isOk());
  EXPECT_TRUE(parsePolicy(parseJson(R"({"lifecycle": {"time_zone": "America/New_York"}})"), nullptr)
                  .isOk());
  for (const char* bad : {"../../etc/passwd", "/etc/localtime", "zone.tab", "Europe", ""}) {
    const auto errors = errorsOf(std::string(R"({"lifecycle": {"time_zone": ")") + bad + "\"}}");
    EXPECT_TRUE(hasError(errors, "/lifecycle/time_zone", "unknown time zone"))
        << bad << dump(errors);
  }
}

// A tz database that knows every zone there is: the ones it was given.
class CompleteZones : public ZoneDatabase {
 public:
  explicit CompleteZones(const ZoneDatabase& zones) : zones_(zones) {}
  Result<std::string> tzif(const std::string& name) const override { return zones_.tzif(name); }
  bool complete() const override { return true; }

 private:
  const ZoneDatabase& zones_;
};

TEST(ParsePolicy, TimeZonesAreCheckedAgainstTheZoneDatabaseGiven) {
  auto check = [](const std::string& zone, const ZoneDatabase& zones) {
    std::vector<PolicyError> errors;
    auto doc = parseJson(R"({"lifecycle": {"time_zone": ")" + zone + "\"}}");
    return parsePolicy(doc, &errors, zones).isOk();
  };
  InMemoryZoneDatabase zones;  // incomplete, as on a machine without a tz database
  zones.add("Europe/Berlin", systemZoneDatabase().tzif("Europe/Berlin").value());
  zones.add("Broken/Zone", "not a zone file at all, but long enough to hold a header.........");
  EXPECT_TRUE(check("UTC", zones));
  EXPECT_TRUE(check("Europe/Berlin", zones));
  EXPECT_TRUE(check("Asia/Tokyo", zones)) << "without a tz database only the form is checked";
  EXPECT_FALSE(check("../etc/passwd", zones));
  EXPECT_FALSE(check("Broken/Zone", zones)) << "a zone that is there must be usable";

  const CompleteZones complete(zones);
  EXPECT_TRUE(check("Europe/Berlin", complete));
  EXPECT_FALSE(check("Asia/Tokyo", complete)) << "a complete database knows it does not exist";
  EXPECT_TRUE(validatePolicy(defaultPolicy(), complete).empty());
}

Policy realisticPolicy() {
  auto p = parsePolicy(parseJson(R"json({
    "naming": {
      "sam_account_name": {"template": "{first(given_name, 2)}{family_name}", "fallback": "x{employee_id}"},
      "mail": {"template": "{ascii(coalesce(preferred_name, given_name))}.{ascii(family_name)}"},
      "cn": {"template": "{display_name} ({sam_account_name})", "unique": false},
      "upn_suffix": "example.com", "mail_domain": "example.com"
    },
    "placement": {
      "default_ou": "OU=Staff,OU=People,DC=example,DC=com",
      "leavers_ou": "OU=Leavers,OU=People,DC=example,DC=com",
      "create_missing_ous": true,
      "rules": [
        {"when": {"employment_type": ["contractor", "vendor"]}, "ou": "OU=External,OU=People,DC=example,DC=com"},
        {"when": {"department": "Sales", "location": ["Berlin", "München"]}, "ou": "OU=Sales DE,OU=People,DC=example,DC=com"}
      ]
    },
    "groups": [
      {"groups": ["CN=All Staff,OU=Groups,DC=example,DC=com"]},
      {"when": {"department": "Sales"}, "groups": ["CN=Sales,OU=Groups,DC=example,DC=com", "CN=CRM Users,OU=Groups,DC=example,DC=com"]},
      {"when": {"custom.cost_center": "4711"}, "groups": ["cn=crm users, ou=groups, dc=example, dc=com"]}
    ],
    "lifecycle": {"time_zone": "Europe/Berlin", "prehire_days": 14, "delete_after_days": 90, "name_reuse_days": 365,
                  "leaver_hide_from_address_lists": false},
    "employment_types": {"intern": {"max_days": 180}, "employee": {"max_days": null}},
    "mailbox": {"kind": "remote", "remote_routing_domain": "example.mail.onmicrosoft.com", "keep_old_addresses": false},
    "thresholds": {"disables": {"max_count": 20, "max_percent": 5.5}, "group_removals": null, "min_population_for_percent": 100}
  })json"),
                       nullptr);
  EXPECT_TRUE(p.isOk()) << p.status().toString();
  return p.isOk() ? p.value() : Policy{};
}

TEST(ToJson, RoundTripsEveryField) {
  for (Policy p : {defaultPolicy(), realisticPolicy()}) {
    p.version = 7;
    const bj::value doc = toJson(p);
    std::vector<PolicyError> errors;
    auto back = parsePolicy(doc, &errors);
    ASSERT_TRUE(back.isOk()) << back.status().toString();
    EXPECT_EQ(*back, p) << bj::serialize(doc);
    // Serialised and read again (doubles and nulls survive text too).
    auto reparsed = parsePolicy(bj::parse(bj::serialize(doc)), nullptr);
    ASSERT_TRUE(reparsed.isOk());
    EXPECT_EQ(*reparsed, p);
  }
}

TEST(ToJson, EmitsDefaultsExplicitly) {
  const bj::value doc = toJson(defaultPolicy());
  const auto& o = doc.as_object();
  EXPECT_EQ(o.at("lifecycle").as_object().at("time_zone").as_string(), "UTC");
  EXPECT_TRUE(o.at("lifecycle").as_object().at("delete_after_days").is_null());
  EXPECT_EQ(o.at("naming")
                .as_object()
                .at("sam_account_name")
                .as_object()
                .at("max_length")
                .to_number<int>(),
            20);
  EXPECT_EQ(o.at("employment_types").as_object().size(), 6u);
  EXPECT_TRUE(o.at("groups").as_array().empty());
}

hr::HrRecord worker(std::string department, std::string location, std::string type = "employee") {
  hr::HrRecord r;
  r.employee_id = "E1";
  r.department = std::move(department);
  r.location = std::move(location);
  r.employment_type = std::move(type);
  r.status = "active";
  return r;
}

TEST(Condition, MatchesCaseInsensitivelyAndRequiresEveryField) {
  const Condition c{.equals = {{"department", {"Sales", "Marketing"}}, {"location", {"MÜNCHEN"}}}};
  EXPECT_TRUE(c.matches(worker("sales", "München")));
  EXPECT_TRUE(c.matches(worker("MARKETING", "münchen")));
  EXPECT_FALSE(c.matches(worker("Sales", "Berlin")));
  EXPECT_FALSE(c.matches(worker("Engineering", "München")));
  EXPECT_TRUE(Condition{}.matches(worker("Anything", "Anywhere")));
}

// CompiledCondition one by one, and ConditionSet all at once.
TEST(CompiledCondition, MatchesExactlyWhatTheConditionMatches) {
  const std::vector<Condition> conditions = {
      {},
      {.equals = {{"department", {"Sales", " marketing "}}, {"location", {"MÜNCHEN"}}}},
      {.equals = {{"department", {"İT"}}}},  // folds to "it": an ASCII value meets it too
      {.equals = {{"department", {"IT", "Forschung & Entwicklung"}}}},
      {.equals = {{"custom.cost_center", {"4711"}}}},
      {.equals = {{"employment_type", {"contractor", "vendor"}}, {"status", {"ACTIVE"}}}},
      {.equals = {{"no_such_field", {"x"}}}},
      {.equals = {{"department", {"Sales", "SALES ", "sales"}}, {"location", {"Berlin"}}}},
      {.equals = {{"department", {}}}},
      {.equals = {{"location", {"berlin", "MÜNCHEN"}}, {"custom.cost_center", {"4711"}}}},
      {.equals = {{"status", {"active"}}}},
  };
  std::vector<hr::HrRecord> records = {
      worker("sales", "München"),       worker("  Marketing\t", "münchen"),
      worker("Sales", "Berlin"),        worker("it", "Berlin"),
      worker("İT", "Berlin"),           worker("IT ", "Berlin"),
      worker("ıt", "Berlin"),           worker("Forschung & Entwicklung", "Berlin"),
      worker("Sales", "München", "Contractor"), worker("", ""),
  };
  records.push_back(worker("Sales", "Berlin"));
  records.back().custom["Cost_Center"] = "4711";
  records.push_back(worker("Sales", "Berlin"));
  records.back().custom["cost_center"] = " 4711";
  std::vector<const Condition*> pointers;
  for (const Condition& c : conditions) pointers.push_back(&c);
  const ConditionSet set(pointers);
  ASSERT_EQ(set.size(), conditions.size());
  std::vector<uint32_t> all;
  int matched = 0;
  for (size_t i = 0; i < conditions.size(); ++i) {
    const CompiledCondition compiled(conditions[i]);
    for (size_t k = 0; k < records.size(); ++k) {
      EXPECT_EQ(compiled.matches(records[k]), conditions[i].matches(records[k]))
          << "condition " << i << ", record " << k;
      set.matchAll(records[k], all);
      EXPECT_EQ(all.at(i) != 0, conditions[i].matches(records[k]))
          << "set: condition " << i << ", record " << k;
      matched += conditions[i].matches(records[k]);
    }
  }
  // Not vacuous: some pairs match and some do not.
  EXPECT_GT(matched, 5);
  EXPECT_LT(matched, static_cast<int>(conditions.size() * records.size()) - 5);
}

TEST(Condition, ReadsCustomFields) {
  hr::HrRecord r = worker("Sales", "Berlin");
  const Condition c{.equals = {{"custom.cost_center", {"4711"}}}};
  EXPECT_FALSE(c.matches(r));
  r.custom["Cost_Center"] = "4711";
  EXPECT_TRUE(c.matches(r));
}

TEST(Placement, FirstMatchingRuleWinsInTheRealisticPolicy) {
  const Policy p = realisticPolicy();
  auto ouOf = [&](const hr::HrRecord& r) {
    for (const auto& rule : p.placement.rules) {
      if (rule.when.matches(r)) return rule.ou;
    }
    return p.placement.default_ou;
  };
  EXPECT_EQ(ouOf(worker("Sales", "Berlin", "contractor")),
            "OU=External,OU=People,DC=example,DC=com");
  EXPECT_EQ(ouOf(worker("Sales", "Berlin")), "OU=Sales DE,OU=People,DC=example,DC=com");
  EXPECT_EQ(ouOf(worker("Sales", "Paris")), "OU=Staff,OU=People,DC=example,DC=com");
}

TEST(ManagedGroups, ListsEachGroupOnceWhateverItsSpelling) {
  const Policy p = realisticPolicy();
  EXPECT_EQ(p.managedGroups(),
            (std::vector<std::string>{"CN=All Staff,OU=Groups,DC=example,DC=com",
                                      "CN=Sales,OU=Groups,DC=example,DC=com",
                                      "CN=CRM Users,OU=Groups,DC=example,DC=com"}));
  EXPECT_TRUE(defaultPolicy().managedGroups().empty());
}

}  // namespace
}  // namespace tenure::policy
