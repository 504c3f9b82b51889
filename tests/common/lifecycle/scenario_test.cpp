// Realistic HR → AD scenarios, run through the pure job planner against an in-memory directory.
// Every scenario also proves idempotency: its plan is applied to the in-memory accounts and a
// second planning run over the result must plan nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <functional>

#include "common/base/utf8.h"
#include "common/ldap/escape.h"
#include "common/lifecycle/job_planner.h"
#include "common/lifecycle/mailbox.h"
#include "common/policy/policy.h"

namespace tenure::lifecycle {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr const char* kStaff = "OU=Staff,DC=example,DC=test";
constexpr const char* kEngineeringOu = "OU=Engineering,OU=Staff,DC=example,DC=test";
constexpr const char* kLeavers = "OU=Leavers,DC=example,DC=test";
constexpr const char* kAllStaff = "CN=All Staff,OU=Groups,DC=example,DC=test";
constexpr const char* kSalesGroup = "CN=Sales,OU=Groups,DC=example,DC=test";
constexpr const char* kEngGroup = "CN=Engineering,OU=Groups,DC=example,DC=test";
constexpr const char* kVpnGroup = "CN=VPN Users,OU=Groups,DC=example,DC=test";  // no rule names it

int64_t utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return daysFromCivil(y, m, d) * 86400 + h * 3600 + mi * 60 + s;
}

hr::HrRecord person(std::string id, std::string given, std::string family,
                    std::string department = "Sales") {
  hr::HrRecord r;
  r.employee_id = std::move(id);
  r.given_name = std::move(given);
  r.family_name = std::move(family);
  r.department = std::move(department);
  r.title = "Analyst";
  r.employment_type = "employee";
  r.status = "active";
  return r;
}

policy::Policy basePolicy() {
  policy::Policy p = policy::defaultPolicy();
  p.naming.mail_domain = "example.com";
  p.placement.default_ou = kStaff;
  p.placement.leavers_ou = kLeavers;
  p.placement.rules.push_back(
      {.when = {.equals = {{"department", {"Engineering"}}}}, .ou = kEngineeringOu});
  p.groups.push_back(
      {.when = {.equals = {{"employment_type", {"employee"}}}}, .groups = {kAllStaff}});
  p.groups.push_back(
      {.when = {.equals = {{"department", {"Engineering"}}}}, .groups = {kEngGroup}});
  p.groups.push_back({.when = {.equals = {{"department", {"Sales"}}}}, .groups = {kSalesGroup}});
  p.mailbox.mode = "auto";
  p.mailbox.kind = "attributes";
  return p;
}

// The directory, policy and instant a scenario runs in.
struct World {
  policy::Policy policy = basePolicy();
  DesiredContext ctx;
  std::vector<LiveAccount> accounts;
  struct Name {
    NameKind kind;
    std::string value;
    std::string dn;
  };
  std::vector<Name> foreign_names;
  std::vector<std::string> reserved;
  std::vector<hr::HrRecord> records;

  World() {
    ctx.users_ou = kStaff;
    ctx.leavers_ou = kLeavers;
    ctx.upn_suffix = "example.test";
    ctx.now_unix = utc(2026, 3, 2, 9);
    ctx.exchange_available = true;
  }
  void zone(const std::string& name) {
    auto tz = TimeZone::load(name);
    ASSERT_TRUE(tz.isOk()) << tz.status().toString();
    ctx.time_zone = *tz;
  }
  std::unique_ptr<InMemoryDirectory> directory(const std::vector<LiveAccount>& live) const {
    auto dir = std::make_unique<InMemoryDirectory>();
    for (const auto& a : live) dir->addAccount(a);
    for (const auto& n : foreign_names) dir->addName(n.kind, n.value, n.dn);
    return dir;
  }
};

// The live account planning `r` alone in `w` would create (a managed account in step with HR).
LiveAccount inStep(const World& w, const hr::HrRecord& r);

// Applies a plan to an in-memory account the way the directory would.
std::optional<LiveAccount> applyPlan(std::optional<LiveAccount> live, const Plan& plan) {
  for (const Operation& op : plan.operations) {
    switch (op.kind) {
      case OperationKind::kDelete:
        live.reset();
        continue;
      case OperationKind::kCreate:
        live.emplace();
        live->dn = op.dn;
        break;
      case OperationKind::kMove:
      case OperationKind::kRename:
        live->dn = op.new_rdn + "," + (op.target.empty() ? ldap::parentDn(live->dn) : op.target);
        continue;
      case OperationKind::kAddMember:
        live->member_of.push_back(op.target);
        continue;
      case OperationKind::kRemoveMember:
        std::erase_if(live->member_of,
                      [&](const std::string& g) { return ldap::dnEquals(g, op.target); });
        continue;
      default:
        break;
    }
    for (const AttributeChange& m : op.modifications) {
      if (m.attribute == kProxyAddresses) {
        ProxyAddressChange c;
        (m.op == AttributeChange::Op::kDelete ? c.remove : c.add) = m.values;
        if (m.op == AttributeChange::Op::kReplace) live->proxy_addresses.clear();
        live->proxy_addresses = applyProxyAddressChange(live->proxy_addresses, c);
        continue;
      }
      if (m.attribute == "userAccountControl") {
        const std::string& v = m.values.at(0);
        std::from_chars(v.data(), v.data() + v.size(), live->user_account_control);
        continue;
      }
      if (m.attribute == "sAMAccountName") live->sam_account_name = m.values.at(0);
      if (m.attribute == "employeeID") live->employee_id = m.values.at(0);
      if (m.values.empty() || m.op == AttributeChange::Op::kDelete) {
        live->attributes.erase(m.attribute);
      } else {
        live->attributes[m.attribute] = m.values[0];
      }
    }
  }
  return live;
}

struct JobRun {
  std::vector<PersonPlan> people;
  const PersonPlan& of(const std::string& id) const {
    for (const auto& p : people) {
      if (p.record->employee_id == id) return p;
    }
    static PersonPlan none;
    ADD_FAILURE() << "no plan for " << id;
    return none;
  }
};

JobRun planWorld(const World& w, const std::vector<LiveAccount>& live) {
  auto dir = w.directory(live);
  auto planner = JobPlanner::create(w.policy, w.ctx, *dir, w.reserved);
  EXPECT_TRUE(planner.isOk()) << planner.status().toString();
  if (!planner.isOk()) return {};
  return JobRun{planner->planAll(w.records)};
}

LiveAccount inStep(const World& w, const hr::HrRecord& r) {
  World alone = w;
  alone.records = {r};
  JobRun run = planWorld(alone, {});
  auto live = applyPlan(std::nullopt, run.people.at(0).plan);
  EXPECT_TRUE(live.has_value()) << r.employee_id << " would not be created";
  return live.value_or(LiveAccount{});
}

std::vector<std::string> kinds(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& op : p.operations) out.emplace_back(operationKindName(op.kind));
  return out;
}

const Operation* findOp(const Plan& p, OperationKind k, const std::string& target = "") {
  for (const auto& op : p.operations) {
    if (op.kind == k && (target.empty() || ldap::dnEquals(op.target, target))) return &op;
  }
  return nullptr;
}

const AttributeChange* findChange(const Operation* op, const std::string& attr) {
  if (op == nullptr) return nullptr;
  for (const auto& m : op->modifications) {
    if (m.attribute == attr) return &m;
  }
  return nullptr;
}

std::string createdValue(const Plan& p, const std::string& attr) {
  const AttributeChange* c = findChange(findOp(p, OperationKind::kCreate), attr);
  return c && !c->values.empty() ? c->values[0] : "";
}

std::string fileTime(int64_t unix_seconds) { return std::to_string(unixToFileTime(unix_seconds)); }

struct Scenario {
  const char* name;
  std::function<void(World&)> setup;
  std::function<void(const JobRun&, const World&)> check;
};

void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

class LifecycleScenario : public ::testing::TestWithParam<Scenario> {};

TEST_P(LifecycleScenario, PlansAsExpectedAndASecondRunChangesNothing) {
  World w;
  GetParam().setup(w);
  JobRun first = planWorld(w, w.accounts);
  GetParam().check(first, w);

  // Apply and plan again: nothing more to do.
  std::vector<LiveAccount> after;
  std::vector<std::string> planned_ids;
  for (const auto& p : first.people) {
    if (!p.error.isOk()) continue;
    planned_ids.push_back(asciiLower(p.record->employee_id));
    if (auto live = applyPlan(p.live ? std::optional(*p.live) : std::nullopt, p.plan)) after.push_back(*live);
  }
  for (const auto& a : w.accounts) {  // accounts nobody in the job touched
    if (std::find(planned_ids.begin(), planned_ids.end(), asciiLower(a.employee_id)) ==
        planned_ids.end()) {
      after.push_back(a);
    }
  }
  JobRun second = planWorld(w, after);
  for (const auto& p : second.people) {
    EXPECT_TRUE(p.plan.empty()) << p.record->employee_id << " still plans "
                                << (p.plan.empty() ? "" : p.plan.operations[0].reason);
  }
}

const Scenario kScenarios[] = {
    // ---- Names ----
    {"PlainHireGetsInitialPlusFamilyName",
     [](World& w) { w.records = {person("E1", "Jane", "Doe")}; },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_THAT(kinds(p), ElementsAre("create", "add_member", "add_member", "modify"));
       EXPECT_EQ(p.operations[0].dn, "CN=Jane Doe,OU=Staff,DC=example,DC=test");
       EXPECT_EQ(p.operations[0].reason, "new hire");
       EXPECT_EQ(createdValue(p, "sAMAccountName"), "jdoe");
       EXPECT_EQ(createdValue(p, "userPrincipalName"), "jdoe@example.test");
       EXPECT_EQ(createdValue(p, "mail"), "jane.doe@example.com");
       EXPECT_EQ(createdValue(p, "userAccountControl"), "512");
       EXPECT_EQ(p.operations[1].target, kAllStaff);
       EXPECT_EQ(p.operations[1].reason, "group rule 1 (employment_type=employee)");
       EXPECT_EQ(p.operations[2].target, kSalesGroup);
       EXPECT_EQ(p.operations[2].reason, "group rule 3 (department=Sales)");
       EXPECT_EQ(r.of("E1").plan.state, "active");
     }},
    {"ApostropheIsDroppedFromOBrien",
     [](World& w) { w.records = {person("E1", "Patrick", "O'Brien")}; },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_EQ(createdValue(p, "sAMAccountName"), "pobrien");
       EXPECT_EQ(createdValue(p, "mail"), "patrick.obrien@example.com");
       EXPECT_EQ(createdValue(p, "displayName"), "Patrick O'Brien");
       EXPECT_EQ(p.operations[0].dn, "CN=Patrick O'Brien,OU=Staff,DC=example,DC=test");
     }},
    {"CommaInSmithJrIsEscapedInTheDn",
     [](World& w) { w.records = {person("E1", "John", "Smith, Jr.")}; },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_EQ(createdValue(p, "sAMAccountName"), "jsmithjr");
       EXPECT_EQ(createdValue(p, "mail"), "john.smithjr@example.com");
       EXPECT_EQ(p.operations[0].dn, "CN=John Smith\\, Jr.,OU=Staff,DC=example,DC=test");
     }},
    {"ZoeAngstromIsTransliterated", [](World& w) { w.records = {person("E1", "Zoë", "Ångström")}; },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_EQ(createdValue(p, "sAMAccountName"), "zangstroem");
       EXPECT_EQ(createdValue(p, "mail"), "zoe.angstroem@example.com");
       EXPECT_EQ(createdValue(p, "displayName"), "Zoë Ångström");
     }},
    {"LukaszZolcIsTransliterated", [](World& w) { w.records = {person("E1", "Łukasz", "Żółć")}; },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_EQ(createdValue(p, "sAMAccountName"), "lzolc");
       EXPECT_EQ(createdValue(p, "mail"), "lukasz.zolc@example.com");
       EXPECT_EQ(createdValue(p, "sn"), "Żółć");
     }},
    {"JoseNunezKeepsAccentsInDisplayNameOnly",
     [](World& w) { w.records = {person("E1", "José", "Núñez")}; },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_EQ(createdValue(p, "sAMAccountName"), "jnunez");
       EXPECT_EQ(createdValue(p, "userPrincipalName"), "jnunez@example.test");
       EXPECT_EQ(createdValue(p, "mail"), "jose.nunez@example.com");
       EXPECT_EQ(createdValue(p, "displayName"), "José Núñez");
     }},
    {"TwoJohnSmithsInOneFileGetDistinctNamesAndCns",
     [](World& w) {
       w.records = {person("E1", "John", "Smith"), person("E2", "John", "Smith")};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E1").plan, "sAMAccountName"), "jsmith");
       EXPECT_EQ(createdValue(r.of("E2").plan, "sAMAccountName"), "jsmith2");
       EXPECT_EQ(createdValue(r.of("E2").plan, "userPrincipalName"), "jsmith2@example.test");
       EXPECT_EQ(createdValue(r.of("E1").plan, "mail"), "john.smith@example.com");
       EXPECT_EQ(createdValue(r.of("E2").plan, "mail"), "john.smith2@example.com");
       EXPECT_EQ(r.of("E2").plan.operations[0].dn,
                 "CN=John Smith (E2),OU=Staff,DC=example,DC=test");
     }},
    {"UnmanagedExistingJsmithIsNotReused",
     [](World& w) {
       w.foreign_names.push_back({NameKind::kSamAccountName, "jsmith",
                                  "CN=Service jsmith,OU=Service,DC=example,DC=test"});
       w.records = {person("E1", "John", "Smith")};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E1").plan, "sAMAccountName"), "jsmith2");
       EXPECT_EQ(createdValue(r.of("E1").plan, "userPrincipalName"), "jsmith2@example.test");
       EXPECT_EQ(createdValue(r.of("E1").plan, "mail"), "john.smith@example.com");
     }},
    {"TakenUpnAlsoMovesToTheNextCandidate",
     [](World& w) {
       w.foreign_names.push_back({NameKind::kUserPrincipalName, "jdoe@example.test",
                                  "CN=Other,OU=Service,DC=example,DC=test"});
       w.records = {person("E1", "Jane", "Doe")};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E1").plan, "sAMAccountName"), "jdoe2");
     }},
    {"MailAddressHeldByAContactIsNotReused",
     [](World& w) {
       w.foreign_names.push_back({NameKind::kMail, "jane.doe@example.com",
                                  "CN=Jane Doe (contact),OU=Contacts,DC=example,DC=test"});
       w.records = {person("E1", "Jane", "Doe")};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E1").plan, "sAMAccountName"), "jdoe");
       EXPECT_EQ(createdValue(r.of("E1").plan, "mail"), "jane.doe2@example.com");
     }},
    {"ReservedNamesOfDeletedLeaversAreNotReused",
     [](World& w) {
       w.reserved = {"jdoe", "jane.doe@example.com"};
       w.records = {person("E1", "Jane", "Doe")};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E1").plan, "sAMAccountName"), "jdoe2");
       EXPECT_EQ(createdValue(r.of("E1").plan, "mail"), "jane.doe2@example.com");
     }},
    {"TwentyCharacterLimitCutsTheFamilyName",
     [](World& w) { w.records = {person("E1", "Maximilian", "Oberstaufenbacherhausen")}; },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E1").plan, "sAMAccountName"), "moberstaufenbacherha");
     }},
    {"TwentyCharacterLimitLeavesRoomForTheNumber",
     [](World& w) {
       w.foreign_names.push_back({NameKind::kSamAccountName, "moberstaufenbacherha",
                                  "CN=Max,OU=Service,DC=example,DC=test"});
       w.records = {person("E1", "Maximilian", "Oberstaufenbacherhausen")};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E1").plan, "sAMAccountName"), "moberstaufenbacherh2");
     }},
    {"PreferredNameIsUsedForAccountAndDisplayName",
     [](World& w) {
       hr::HrRecord r = person("E1", "Robert", "Miller");
       r.preferred_name = "Bob";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E1").plan, "sAMAccountName"), "bmiller");
       EXPECT_EQ(createdValue(r.of("E1").plan, "displayName"), "Bob Miller");
       EXPECT_EQ(r.of("E1").plan.operations[0].dn, "CN=Bob Miller,OU=Staff,DC=example,DC=test");
     }},
    {"NamesInChineseScriptFallBackToTheEmployeeId",
     [](World& w) { w.records = {person("E100", "伟", "王")}; },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E100").plan, "sAMAccountName"), "ue100");
       EXPECT_EQ(createdValue(r.of("E100").plan, "displayName"), "伟 王");
     }},
    // ---- Changes to existing people ----
    {"FamilyNameChangeUpdatesNamesAndKeepsSamAndOldAddress",
     [](World& w) {
       LiveAccount live = inStep(w, person("E1", "Jane", "Doe"));
       live.proxy_addresses = {"SMTP:jane.doe@example.com", "X500:/o=Old/cn=jane"};
       live.attributes[kMailNickname] = "jdoe";
       w.accounts = {live};
       w.records = {person("E1", "Jane", "Smith")};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_THAT(kinds(p), ElementsAre("rename", "modify", "modify"));
       EXPECT_EQ(p.operations[0].new_rdn, "CN=Jane Smith");
       EXPECT_EQ(p.operations[0].reason, "name changed: Jane Doe → Jane Smith");
       EXPECT_EQ(p.operations[1].dn, "CN=Jane Smith,OU=Staff,DC=example,DC=test");
       EXPECT_THAT(p.operations[1].changes, ElementsAre("sn", "displayName", "mail"));
       EXPECT_THAT(p.operations[1].reason, HasSubstr("HR changed sn: Doe → Smith"));
       EXPECT_EQ(findChange(&p.operations[1], "mail")->values[0], "jane.smith@example.com");
       EXPECT_EQ(findChange(&p.operations[1], "sAMAccountName"), nullptr);
       const Operation& mb = p.operations[2];
       EXPECT_EQ(
           *findChange(&mb, kProxyAddresses),
           (AttributeChange{
               AttributeChange::Op::kDelete, kProxyAddresses, {"SMTP:jane.doe@example.com"}}));
       EXPECT_EQ(mb.modifications.back(),
                 (AttributeChange{AttributeChange::Op::kAdd,
                                  kProxyAddresses,
                                  {"smtp:jane.doe@example.com", "SMTP:jane.smith@example.com"}}));
     }},
    {"FamilyNameChangeWithoutKeepingOldAddressesDropsOnlyTenuresPrimary",
     [](World& w) {
       w.policy.mailbox.keep_old_addresses = false;
       LiveAccount live = inStep(w, person("E1", "Jane", "Doe"));
       live.proxy_addresses = {"SMTP:jane.doe@example.com", "smtp:jd@example.com"};
       live.attributes[kMailNickname] = "jdoe";
       w.accounts = {live};
       w.records = {person("E1", "Jane", "Smith")};
     },
     [](const JobRun& r, const World&) {
       const Operation* mb = nullptr;
       for (const auto& op : r.of("E1").plan.operations) {
         if (findChange(&op, kProxyAddresses)) mb = &op;
       }
       ASSERT_NE(mb, nullptr);
       std::vector<std::string> after = applyProxyAddressChange(
           {"SMTP:jane.doe@example.com", "smtp:jd@example.com"},
           {findChange(mb, kProxyAddresses)->values, mb->modifications.back().values});
       EXPECT_THAT(after,
                   UnorderedElementsAre("smtp:jd@example.com", "SMTP:jane.smith@example.com"));
     }},
    {"DepartmentMoveChangesOuAndRuleGroups",
     [](World& w) {
       LiveAccount live = inStep(w, person("E1", "Ada", "Byte", "Engineering"));
       live.member_of.push_back(kVpnGroup);
       w.accounts = {live};
       w.records = {person("E1", "Ada", "Byte", "Sales")};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_THAT(kinds(p), ElementsAre("move", "modify", "remove_member", "add_member"));
       EXPECT_EQ(p.operations[0].target, kStaff);
       EXPECT_EQ(p.operations[0].reason,
                 "default OU after HR changed department: Engineering → Sales");
       EXPECT_EQ(p.operations[1].reason, "HR changed department: Engineering → Sales");
       EXPECT_EQ(p.operations[2].target, kEngGroup);
       EXPECT_EQ(p.operations[2].reason,
                 "no group rule grants it any more (HR changed department: Engineering → Sales)");
       EXPECT_EQ(p.operations[3].target, kSalesGroup);
       EXPECT_EQ(p.operations[3].reason, "group rule 3 (department=Sales)");
       EXPECT_EQ(p.operations[3].dn, "CN=Ada Byte,OU=Staff,DC=example,DC=test");
       EXPECT_EQ(findOp(p, OperationKind::kRemoveMember, kVpnGroup), nullptr);
     }},
    {"MoverIntoARuleOuIsMovedThere",
     [](World& w) {
       w.accounts = {inStep(w, person("E1", "Ada", "Byte", "Sales"))};
       w.records = {person("E1", "Ada", "Byte", "Engineering")};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       ASSERT_NE(findOp(p, OperationKind::kMove), nullptr);
       EXPECT_EQ(findOp(p, OperationKind::kMove)->target, kEngineeringOu);
       EXPECT_THAT(findOp(p, OperationKind::kMove)->reason,
                   HasSubstr("placement rule 1 (department=Engineering)"));
       EXPECT_EQ(p.final_dn, "CN=Ada Byte,OU=Engineering,OU=Staff,DC=example,DC=test");
     }},
    {"AccountAnAdminPutInASubOuStaysThere",
     [](World& w) {
       LiveAccount live = inStep(w, person("E1", "Ann", "Able"));
       live.dn = "CN=Ann Able,OU=Berlin,OU=Staff,DC=example,DC=test";
       w.accounts = {live};
       w.records = {person("E1", "Ann", "Able")};
     },
     [](const JobRun& r, const World&) { EXPECT_TRUE(r.of("E1").plan.empty()); }},
    {"UnmanagedGroupsAreNeverTouched",
     [](World& w) {
       LiveAccount live = inStep(w, person("E1", "Ann", "Able"));
       live.member_of = {kVpnGroup, "CN=Domain Admins,CN=Users,DC=example,DC=test", kAllStaff,
                         kSalesGroup};
       w.accounts = {live};
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.title = "Lead Analyst";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_THAT(kinds(p), ElementsAre("modify"));
       EXPECT_EQ(p.operations[0].reason, "HR changed title: Analyst → Lead Analyst");
     }},
    {"OwnedAttributeClearedInHrIsDeletedAndForeignOnesKept",
     [](World& w) {
       hr::HrRecord before = person("E1", "Ann", "Able");
       before.location = "Berlin";
       LiveAccount live = inStep(w, before);
       live.attributes["telephoneNumber"] = "+49 30 1234";
       w.accounts = {live};
       w.records = {person("E1", "Ann", "Able")};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       ASSERT_THAT(kinds(p), ElementsAre("modify"));
       EXPECT_EQ(p.operations[0].modifications,
                 (std::vector<AttributeChange>{
                     {AttributeChange::Op::kDelete, "physicalDeliveryOfficeName", {}}}));
     }},
    {"TwoAccountsWithOneEmployeeIdAreAConflict",
     [](World& w) {
       LiveAccount a = inStep(w, person("E1", "Ann", "Able"));
       LiveAccount b = a;
       b.dn = "CN=Ann Able 2,OU=Staff,DC=example,DC=test";
       b.sam_account_name = "aable2";
       b.employee_id = "e1";  // employeeID compares case-insensitively
       w.accounts = {a, b};
       w.records = {person("E1", "Ann", "Able", "Marketing"), person("E2", "Bo", "Bell")};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(r.of("E1").error.errorClass(), ErrorClass::kConflict);
       EXPECT_EQ(r.of("E1").error.message(),
                 "2 accounts carry employeeID E1: CN=Ann Able,OU=Staff,DC=example,DC=test; "
                 "CN=Ann Able 2,OU=Staff,DC=example,DC=test");
       EXPECT_TRUE(r.of("E1").plan.empty());
       EXPECT_FALSE(r.of("E2").plan.empty());
     }},
    // ---- Managers ----
    {"ManagerHiredAfterTheReportIsSetOnceBothExist",
     [](World& w) {
       hr::HrRecord report = person("E1", "Rita", "Report");
       report.manager_id = "E2";
       w.records = {report, person("E2", "Bob", "Boss")};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_EQ(createdValue(p, "manager"), "");
       const Operation& last = p.operations.back();
       EXPECT_TRUE(last.deferred);
       EXPECT_EQ(last.manager_employee_id, "E2");
       EXPECT_EQ(findChange(&last, "manager")->values[0],
                 "CN=Bob Boss,OU=Staff,DC=example,DC=test");
       EXPECT_EQ(last.reason, "HR manager E2 (created in this run)");
     }},
    {"ManagerAlreadyInTheDirectoryIsSetInTheCreate",
     [](World& w) {
       w.accounts = {inStep(w, person("E9", "Bob", "Boss"))};
       hr::HrRecord report = person("E1", "Rita", "Report");
       report.manager_id = "E9";
       w.records = {report};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(createdValue(r.of("E1").plan, "manager"),
                 "CN=Bob Boss,OU=Staff,DC=example,DC=test");
     }},
    {"UnknownManagerIsNotedWithoutBlocking",
     [](World& w) {
       hr::HrRecord report = person("E1", "Rita", "Report");
       report.manager_id = "NOBODY";
       w.records = {report};
     },
     [](const JobRun& r, const World&) {
       EXPECT_TRUE(r.of("E1").error.isOk());
       EXPECT_THAT(r.of("E1").notes, Contains(kManagerUnresolved));
       EXPECT_EQ(kinds(r.of("E1").plan).front(), "create");
     }},
    {"ManagerCycleIsADataErrorOnThosePeopleOnly",
     [](World& w) {
       hr::HrRecord a = person("E1", "Ann", "Able");
       a.manager_id = "E2";
       hr::HrRecord b = person("E2", "Bo", "Bell");
       b.manager_id = "E1";
       hr::HrRecord c = person("E3", "Cid", "Cane");
       c.manager_id = "E1";
       w.records = {a, b, c};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(r.of("E1").warning.errorClass(), ErrorClass::kData);
       EXPECT_EQ(r.of("E1").warning.message(),
                 "manager cycle: E1 → E2 → E1 (manager left unchanged)");
       EXPECT_EQ(r.of("E2").warning.errorClass(), ErrorClass::kData);
       EXPECT_TRUE(r.of("E3").warning.isOk());
       EXPECT_EQ(kinds(r.of("E1").plan).front(), "create");
       EXPECT_TRUE(r.of("E3").plan.operations.back().deferred);
     }},
    {"ManagerChangeAloneOnAnExistingAccountIsOneModifyWithItsNamesKept",
     // The planner lets go of the desired state of people with nothing to do and builds it again
     // when only their manager changed: the names must be the ones the account has.
     [](World& w) {
       LiveAccount boss = inStep(w, person("E9", "Bob", "Boss"));
       LiveAccount chief = inStep(w, person("E8", "Carl", "Chief"));
       hr::HrRecord before = person("E1", "Rita", "Report");
       before.manager_id = "E9";
       LiveAccount rita = inStep(w, before);
       rita.attributes["manager"] = boss.dn;
       rita.attributes["mail"] = "rita.report7@example.com";  // an older candidate, kept
       rita.proxy_addresses = {"SMTP:rita.report7@example.com"};
       w.accounts = {boss, chief, rita};
       hr::HrRecord now = before;
       now.manager_id = "E8";
       w.records = {now, person("E8", "Carl", "Chief")};  // E9 only in the directory
     },
     [](const JobRun& r, const World&) {
       const PersonPlan& p = r.of("E1");
       ASSERT_EQ(kinds(p.plan), std::vector<std::string>{"modify"});
       EXPECT_FALSE(p.plan.operations[0].deferred);
       EXPECT_EQ(findChange(&p.plan.operations[0], "manager")->values[0],
                 "CN=Carl Chief,OU=Staff,DC=example,DC=test");
       ASSERT_NE(p.desired, nullptr);
       EXPECT_EQ(p.desired->sam_account_name, p.live->sam_account_name);
       EXPECT_EQ(p.desired->upn, p.live->attribute("userPrincipalName"));
       EXPECT_EQ(p.desired->mail, "rita.report7@example.com");
       EXPECT_EQ(p.mail_index, 7);
       // Nothing to do for E8: no desired state kept.
       EXPECT_TRUE(r.of("E8").plan.empty());
       EXPECT_EQ(r.of("E8").desired, nullptr);
     }},
    {"ChainsThatEndAreFollowedOnceAndACycleBesideThemIsStillFound",
     [](World& w) {
       auto with = [](hr::HrRecord r, const char* manager) {
         r.manager_id = manager;
         return r;
       };
       w.records = {with(person("E1", "Ann", "Able"), "E2"),
                    with(person("E2", "Bo", "Bell"), "E3"),
                    person("E3", "Cid", "Cane"),
                    with(person("E4", "Di", "Dole"), "E2"),
                    with(person("E5", "Ed", "Eyre"), "E6"),
                    with(person("E6", "Flo", "Fenn"), "E5"),
                    with(person("E7", "Gus", "Gale"), "E5"),
                    with(person("E8", "Hal", "Hume"), "e1")};
     },
     [](const JobRun& r, const World&) {
       for (const char* id : {"E1", "E2", "E3", "E4", "E7", "E8"}) {
         EXPECT_TRUE(r.of(id).warning.isOk()) << id << ": " << r.of(id).warning.toString();
       }
       EXPECT_EQ(r.of("E5").warning.message(),
                 "manager cycle: E5 → E6 → E5 (manager left unchanged)");
       EXPECT_EQ(r.of("E6").warning.message(),
                 "manager cycle: E6 → E5 → E6 (manager left unchanged)");
       // Employee IDs compare case-insensitively: E8's manager "e1" is E1, created in this run.
       EXPECT_EQ(r.of("E8").plan.operations.back().manager_employee_id, "e1");
       EXPECT_TRUE(r.of("E8").plan.operations.back().deferred);
     }},
    // ---- Lifecycle states ----
    {"TerminationTakesEffectAtLocalMidnightAcrossTheDstChange",
     [](World& w) {
       w.zone("Europe/Berlin");
       w.accounts = {inStep(w, person("E1", "Ann", "Able"))};
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.status = "terminated";
       r.end_date = "2025-10-25";  // last Saturday of October; clocks go back that night
       w.records = {r};
       // Local midnight of Sunday 26 October is still CEST (+2): 22:00 UTC on the 25th.
       w.ctx.now_unix = utc(2025, 10, 25, 22, 0, 0);
     },
     [](const JobRun& r, const World& w) {
       const Plan& p = r.of("E1").plan;
       EXPECT_EQ(p.state, "terminated");
       EXPECT_EQ(p.operations.front().kind, OperationKind::kDisable);
       EXPECT_EQ(p.operations.front().reason, "terminated: end date 2025-10-25 passed");
       EXPECT_EQ(findChange(findOp(p, OperationKind::kModify), "accountExpires")->values[0],
                 fileTime(utc(2025, 10, 25, 22)));
       // One second earlier the person is still active (the expiry is already set ahead).
       World before = w;
       before.ctx.now_unix = utc(2025, 10, 25, 21, 59, 59);
       JobRun earlier = planWorld(before, w.accounts);
       EXPECT_EQ(earlier.of("E1").plan.state, "active");
       EXPECT_THAT(kinds(earlier.of("E1").plan), ElementsAre("modify"));
       EXPECT_THAT(earlier.of("E1").plan.operations[0].changes, ElementsAre("accountExpires"));
     }},
    {"LeaverIsDisabledExpiredHiddenStrippedAndMoved",
     [](World& w) {
       LiveAccount live = inStep(w, person("E1", "Ann", "Able"));
       live.member_of.push_back(kVpnGroup);
       w.accounts = {live};
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.status = "terminated";
       w.records = {r};
     },
     [](const JobRun& r, const World& w) {
       const Plan& p = r.of("E1").plan;
       EXPECT_THAT(kinds(p), ElementsAre("disable", "modify", "modify", "remove_member",
                                         "remove_member", "move"));
       EXPECT_EQ(p.operations[0].reason, "terminated: status terminated");
       EXPECT_EQ(findChange(&p.operations[1], "accountExpires")->values[0],
                 fileTime(w.ctx.now_unix));
       EXPECT_EQ(findChange(&p.operations[2], kHideFromAddressLists)->values[0], "TRUE");
       EXPECT_EQ(p.operations[3].target, kAllStaff);
       EXPECT_EQ(p.operations[3].reason, "terminated: status terminated: rule groups removed");
       EXPECT_EQ(p.operations[4].target, kSalesGroup);
       EXPECT_EQ(p.operations[5].target, kLeavers);
       EXPECT_EQ(p.final_dn, "CN=Ann Able,OU=Leavers,DC=example,DC=test");
     }},
    {"LeaverKeepsGroupsWhenThePolicySaysSo",
     [](World& w) {
       w.policy.lifecycle.leaver_remove_rule_groups = false;
       w.accounts = {inStep(w, person("E1", "Ann", "Able"))};
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.status = "terminated";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(findOp(r.of("E1").plan, OperationKind::kRemoveMember), nullptr);
       EXPECT_NE(findOp(r.of("E1").plan, OperationKind::kDisable), nullptr);
     }},
    {"LeaveDisablesButKeepsGroups",
     [](World& w) {
       w.accounts = {inStep(w, person("E1", "Ann", "Able"))};
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.status = "leave";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       EXPECT_THAT(kinds(r.of("E1").plan), ElementsAre("disable"));
       EXPECT_EQ(r.of("E1").plan.operations[0].reason, "leave");
       EXPECT_EQ(r.of("E1").plan.state, "leave");
     }},
    {"ReturnFromLeaveOnlyEnables",
     [](World& w) {
       LiveAccount live = inStep(w, person("E1", "Ann", "Able"));
       live.user_account_control = 514;
       w.accounts = {live};
       w.records = {person("E1", "Ann", "Able")};
     },
     [](const JobRun& r, const World&) {
       EXPECT_THAT(kinds(r.of("E1").plan), ElementsAre("enable"));
       EXPECT_EQ(r.of("E1").plan.operations[0].modifications[0].values[0], "512");
     }},
    {"RehireRestoresTheSameAccount",
     [](World& w) {
       hr::HrRecord leaver = person("E1", "Ann", "Able");
       leaver.status = "terminated";
       leaver.end_date = "2025-06-30";
       LiveAccount live = inStep(w, person("E1", "Ann", "Able"));
       live.dn = "CN=Ann Able,OU=Leavers,DC=example,DC=test";
       live.user_account_control = 514 | 0x10000;
       live.member_of.clear();
       live.attributes["accountExpires"] = fileTime(utc(2025, 6, 30, 22));
       live.attributes[kHideFromAddressLists] = "TRUE";
       w.accounts = {live};
       hr::HrRecord back = person("E1", "Ann", "Able");
       back.start_date = "2026-03-01";
       w.records = {back};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_EQ(p.state, "rehire");
       EXPECT_EQ(findOp(p, OperationKind::kCreate), nullptr);
       EXPECT_THAT(kinds(p),
                   ElementsAre("move", "modify", "add_member", "add_member", "modify", "enable"));
       EXPECT_EQ(p.operations[0].target, kStaff);
       EXPECT_EQ(p.operations[0].reason, "rehire: move back (default OU)");
       EXPECT_EQ(findChange(&p.operations[1], "accountExpires")->values[0], "0");
       EXPECT_EQ(findChange(&p.operations[4], kHideFromAddressLists)->op,
                 AttributeChange::Op::kDelete);
       EXPECT_EQ(p.operations[5].modifications[0].values[0], std::to_string(512 | 0x10000));
       EXPECT_EQ(p.operations[5].reason, "rehire: active: started 2026-03-01");
     }},
    {"RescindedPreHireAccountIsDeleted",
     [](World& w) {
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.start_date = "2026-03-05";
       LiveAccount live = inStep(w, r);
       w.accounts = {live};
       r.status = "terminated";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       EXPECT_THAT(kinds(r.of("E1").plan), ElementsAre("delete"));
       EXPECT_EQ(r.of("E1").plan.operations[0].reason,
                 "rescinded: terminated before the start date 2026-03-05: the account is deleted");
       EXPECT_EQ(r.of("E1").plan.state, "rescinded");
     }},
    {"RescindedHireWithoutAccountCreatesNothing",
     [](World& w) {
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.start_date = "2026-03-05";
       r.status = "terminated";  // the hire is cancelled before the start date
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       EXPECT_TRUE(r.of("E1").plan.empty());
       EXPECT_THAT(r.of("E1").plan.note, HasSubstr("rescinded"));
     }},
    {"PreHireTooFarOutIsNotCreatedYet",
     [](World& w) {
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.start_date = "2026-04-01";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       EXPECT_TRUE(r.of("E1").plan.empty());
       EXPECT_EQ(r.of("E1").plan.state, "not_yet");
       EXPECT_EQ(r.of("E1").plan.note,
                 "pre-hire: starts 2026-04-01, created from 2026-03-25; no account is created");
     }},
    {"PreHireWithinTheWindowIsCreatedDisabled",
     [](World& w) {
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.start_date = "2026-03-06";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_EQ(p.state, "pre_hire");
       EXPECT_EQ(createdValue(p, "userAccountControl"), "514");
       EXPECT_EQ(p.operations[0].reason,
                 "new hire (pre-hire: starts 2026-03-06, created disabled)");
     }},
    {"PreHireIsEnabledAtLocalMidnightOfTheStartDate",
     [](World& w) {
       w.zone("Europe/Berlin");
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.start_date = "2026-03-06";
       LiveAccount live = inStep(w, r);
       EXPECT_EQ(live.user_account_control, 514u);
       w.accounts = {live};
       w.records = {r};
       w.ctx.now_unix = utc(2026, 3, 5, 23);  // 00:00 CET on the 6th
     },
     [](const JobRun& r, const World& w) {
       EXPECT_THAT(kinds(r.of("E1").plan), ElementsAre("enable"));
       EXPECT_EQ(r.of("E1").plan.operations[0].reason, "active: started 2026-03-06");
       World before = w;
       before.ctx.now_unix = utc(2026, 3, 5, 22, 59, 59);
       EXPECT_TRUE(planWorld(before, w.accounts).of("E1").plan.empty());
     }},
    {"ContractorWithoutEndDateIsRejected",
     [](World& w) {
       hr::HrRecord r = person("C1", "Carl", "Contract");
       r.employment_type = "contractor";
       w.records = {r, person("E2", "Bo", "Bell")};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(r.of("C1").error.errorClass(), ErrorClass::kData);
       EXPECT_THAT(r.of("C1").error.message(), HasSubstr("contractor without an end date"));
       EXPECT_TRUE(r.of("C1").plan.empty());
       EXPECT_FALSE(r.of("E2").plan.empty());
     }},
    {"ContractorAccountExpiresAtLocalMidnightAfterTheEndDate",
     [](World& w) {
       w.zone("Europe/Berlin");
       hr::HrRecord r = person("C1", "Carl", "Contract");
       r.employment_type = "contractor";
       r.end_date = "2026-06-30";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("C1").plan;
       EXPECT_EQ(createdValue(p, "accountExpires"), fileTime(utc(2026, 6, 30, 22)));
       EXPECT_EQ(createdValue(p, "employeeType"), "contractor");
       EXPECT_EQ(findOp(p, OperationKind::kAddMember, kAllStaff), nullptr) << "not an employee";
     }},
    {"ContractorWhoseEndDatePassedIsOffboarded",
     [](World& w) {
       hr::HrRecord r = person("C1", "Carl", "Contract");
       r.employment_type = "contractor";
       r.end_date = "2026-12-31";
       LiveAccount live = inStep(w, r);
       r.end_date = "2026-02-27";
       w.accounts = {live};
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("C1").plan;
       EXPECT_EQ(p.state, "terminated");
       EXPECT_EQ(p.operations[0].kind, OperationKind::kDisable);
       EXPECT_EQ(p.operations[0].reason, "terminated: end date 2026-02-27 passed");
       EXPECT_EQ(findChange(findOp(p, OperationKind::kModify), "accountExpires")->values[0],
                 fileTime(utc(2026, 2, 28)));
       EXPECT_EQ(findOp(p, OperationKind::kMove)->target, kLeavers);
     }},
    {"ContractorWhoseEndDatePassedIsNeverCreated",
     [](World& w) {
       hr::HrRecord r = person("C1", "Carl", "Contract");
       r.employment_type = "contractor";
       r.end_date = "2026-01-31";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       EXPECT_TRUE(r.of("C1").plan.empty());
       EXPECT_EQ(r.of("C1").plan.note,
                 "terminated: end date 2026-01-31 passed; no account is created");
     }},
    {"ContractorExtendedMovesAccountExpires",
     [](World& w) {
       hr::HrRecord r = person("C1", "Carl", "Contract");
       r.employment_type = "contractor";
       r.end_date = "2026-03-31";
       w.accounts = {inStep(w, r)};
       r.end_date = "2026-09-30";
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("C1").plan;
       ASSERT_THAT(kinds(p), ElementsAre("modify"));
       EXPECT_EQ(findChange(&p.operations[0], "accountExpires")->values[0],
                 fileTime(utc(2026, 10, 1)));
       EXPECT_EQ(p.operations[0].reason,
                 "end date 2026-09-30: expires at the start of 2026-10-01 (UTC)");
     }},
    {"LeaverIsDeletedOnceTheRetentionPassed",
     [](World& w) {
       w.policy.lifecycle.delete_after_days = 30;
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.status = "terminated";
       r.end_date = "2026-01-15";
       LiveAccount live = inStep(w, person("E1", "Ann", "Able"));
       live.dn = "CN=Ann Able,OU=Leavers,DC=example,DC=test";
       live.user_account_control = 514;
       w.accounts = {live};
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       EXPECT_THAT(kinds(r.of("E1").plan), ElementsAre("delete"));
       EXPECT_THAT(r.of("E1").plan.operations[0].reason,
                   HasSubstr("terminated since 2026-01-16, retention of 30 days passed"));
     }},
    {"LeaverIsKeptWhileTheRetentionRuns",
     [](World& w) {
       w.policy.lifecycle.delete_after_days = 90;
       hr::HrRecord r = person("E1", "Ann", "Able");
       r.status = "terminated";
       r.end_date = "2026-01-15";
       w.accounts = {inStep(w, person("E1", "Ann", "Able"))};
       w.records = {r};
     },
     [](const JobRun& r, const World&) {
       EXPECT_EQ(findOp(r.of("E1").plan, OperationKind::kDelete), nullptr);
       EXPECT_NE(findOp(r.of("E1").plan, OperationKind::kDisable), nullptr);
     }},
    // ---- Exchange ----
    {"RemoteMailboxGetsTargetAddressAndRoutingProxy",
     [](World& w) {
       w.policy.mailbox.kind = "remote";
       w.policy.mailbox.remote_routing_domain = "example.mail.onmicrosoft.com";
       w.records = {person("E1", "Jane", "Doe")};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       const Operation& mb = p.operations.back();
       EXPECT_EQ(mb.kind, OperationKind::kModify);
       EXPECT_EQ(findChange(&mb, kMailNickname)->values[0], "jdoe");
       EXPECT_EQ(findChange(&mb, kTargetAddress)->values[0],
                 "SMTP:jane.doe@example.mail.onmicrosoft.com");
       EXPECT_EQ(findChange(&mb, kProxyAddresses)->values,
                 (std::vector<std::string>{"SMTP:jane.doe@example.com",
                                           "smtp:jane.doe@example.mail.onmicrosoft.com"}));
       EXPECT_THAT(mb.reason,
                   HasSubstr("remote mailbox routed to jane.doe@example.mail.onmicrosoft.com"));
     }},
    {"NoExchangeSchemaNotesMailboxUnavailableAndWritesNoExchangeAttribute",
     [](World& w) {
       w.ctx.exchange_available = false;
       w.records = {person("E1", "Jane", "Doe")};
     },
     [](const JobRun& r, const World&) {
       const Plan& p = r.of("E1").plan;
       EXPECT_THAT(kinds(p), ElementsAre("create", "add_member", "add_member"));
       EXPECT_EQ(createdValue(p, "mail"), "jane.doe@example.com");
       EXPECT_THAT(r.of("E1").notes, Contains(kMailboxUnavailable));
     }},
    {"MailboxModeOffWritesNoExchangeAttributes",
     [](World& w) {
       w.policy.mailbox.mode = "off";
       LiveAccount live = inStep(w, person("E1", "Jane", "Doe"));
       w.accounts = {live};
       w.records = {person("E1", "Jane", "Smith")};
     },
     [](const JobRun& r, const World&) {
       for (const auto& op : r.of("E1").plan.operations) {
         EXPECT_EQ(findChange(&op, kProxyAddresses), nullptr);
         EXPECT_EQ(findChange(&op, kMailNickname), nullptr);
       }
       EXPECT_THAT(r.of("E1").notes, Not(Contains(kMailboxUnavailable)));
     }},
    {"ExistingNumberedAddressIsKeptWhenTheFirstBecomesFree",
     [](World& w) {
       LiveAccount live = inStep(w, person("E1", "Jane", "Doe"));
       live.attributes["mail"] = "jane.doe2@example.com";
       live.proxy_addresses = {"SMTP:jane.doe2@example.com"};
       live.attributes[kMailNickname] = "jdoe";
       w.accounts = {live};
       w.records = {person("E1", "Jane", "Doe")};
     },
     [](const JobRun& r, const World&) { EXPECT_TRUE(r.of("E1").plan.empty()); }},
};

INSTANTIATE_TEST_SUITE_P(Scenarios, LifecycleScenario, ::testing::ValuesIn(kScenarios),
                         [](const ::testing::TestParamInfo<Scenario>& info) {
                           return std::string(info.param.name);
                         });

// The snapshot's employeeID index: grows past its first table, compares IDs case-insensitively,
// keeps the accounts sharing an ID in the order they were added.
TEST(InMemoryDirectory, FindsAccountsByEmployeeIdCaseInsensitively) {
  InMemoryDirectory dir;
  for (int i = 0; i < 1000; ++i) {
    LiveAccount a;
    a.employee_id = "E" + std::to_string(i);
    a.dn = "CN=P" + std::to_string(i) + "," + std::string(kStaff);
    dir.addAccount(a);
  }
  LiveAccount twin;
  twin.employee_id = "e17";
  twin.dn = "CN=Twin," + std::string(kStaff);
  dir.addAccount(twin);
  LiveAccount service;  // no employeeID: never found by one
  service.dn = "CN=svc," + std::string(kStaff);
  dir.addAccount(service);

  for (int i = 0; i < 1000; ++i) {
    const std::string id = (i % 2 ? "e" : "E") + std::to_string(i);
    size_t count = 0;
    auto sole = dir.soleAccountByEmployeeId(id, count);
    ASSERT_TRUE(sole.isOk());
    if (i == 17) {
      EXPECT_EQ(count, 2u);
      EXPECT_EQ(*sole, nullptr);
      auto both = dir.accountsByEmployeeId(id);
      ASSERT_TRUE(both.isOk());
      ASSERT_EQ(both->size(), 2u);
      EXPECT_EQ((*both)[0]->dn, "CN=P17," + std::string(kStaff));
      EXPECT_EQ((*both)[1]->dn, "CN=Twin," + std::string(kStaff));
      continue;
    }
    EXPECT_EQ(count, 1u) << id;
    ASSERT_NE(*sole, nullptr) << id;
    EXPECT_EQ((*sole)->dn, "CN=P" + std::to_string(i) + "," + std::string(kStaff));
  }
  for (const std::string id : {"E1000", "", "E", "E17 ", "x"}) {
    size_t count = 7;
    auto sole = dir.soleAccountByEmployeeId(id, count);
    ASSERT_TRUE(sole.isOk());
    EXPECT_EQ(count, 0u) << id;
    EXPECT_EQ(*sole, nullptr) << id;
    EXPECT_TRUE(dir.accountsByEmployeeId(id)->empty()) << id;
  }
}

TEST(LifecycleScenarios, SuiteHasAtLeastFortyScenarios) { EXPECT_GE(std::size(kScenarios), 40u); }

}  // namespace
}  // namespace tenure::lifecycle
