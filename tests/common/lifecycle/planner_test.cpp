#include "common/lifecycle/planner.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/policy/policy.h"

namespace tenure::lifecycle {
namespace {

// AttributeMap against std::map: inserts in a scrambled order, more names than it tags (16),
// erasures at the front, the middle and the end, and names that differ only in length or case.
TEST(AttributeMap, AgreesWithAStdMapAcrossInsertsAndErasures) {
  std::vector<std::string> names;
  for (int i = 0; i < 24; ++i) names.push_back("attr" + std::to_string((i * 7) % 24));
  names.insert(names.end(),
               {"a", "ab", "abc", "A", "userPrincipalName", "physicalDeliveryOfficeName"});
  AttributeMap m;
  std::map<std::string, std::string> expected;
  auto check = [&](const char* when) {
    ASSERT_EQ(m.size(), expected.size()) << when;
    auto it = expected.begin();
    for (const auto& [name, value] : m) {  // sorted like the std::map
      EXPECT_EQ(name, it->first) << when;
      EXPECT_EQ(value, it->second) << when;
      ++it;
    }
    for (const auto& n : names) {
      const std::string* v = m.find(n);
      auto e = expected.find(n);
      if (e == expected.end()) {
        EXPECT_EQ(v, nullptr) << when << ": " << n;
      } else {
        ASSERT_NE(v, nullptr) << when << ": " << n;
        EXPECT_EQ(*v, e->second) << when << ": " << n;
      }
    }
    EXPECT_EQ(m.find("attr"), nullptr);
    EXPECT_EQ(m.find(""), nullptr);
  };
  for (const auto& n : names) {
    m[n] = "v-" + n;
    expected[n] = "v-" + n;
    check(("after inserting " + n).c_str());
  }
  m["attr3"] = "changed";
  expected["attr3"] = "changed";
  check("after an update");
  for (const char* n : {"A", "attr12", "userPrincipalName", "nothing", "a", "attr9", "attr0"}) {
    EXPECT_EQ(m.erase(n), expected.erase(n)) << n;
    check((std::string("after erasing ") + n).c_str());
  }
  AttributeMap copy = m;
  EXPECT_EQ(copy, m);
  copy["attr1"] = "other";
  EXPECT_NE(copy, m);
}

constexpr const char* kUsersOu = "OU=Staff,DC=example,DC=test";
constexpr const char* kLeaversOu = "OU=Leavers,DC=example,DC=test";

DesiredContext context() {
  DesiredContext c;
  c.users_ou = kUsersOu;
  c.leavers_ou = kLeaversOu;
  c.upn_suffix = "example.test";
  c.now_unix = 1'750'000'000;
  return c;
}

// The desired account under the default policy.
DesiredAccount desired(const hr::HrRecord& r) {
  auto d = desiredAccount(r, policy::defaultPolicy(), context());
  EXPECT_TRUE(d.isOk()) << d.status().toString();
  return d.isOk() ? *d : DesiredAccount{};
}

hr::HrRecord jane() {
  hr::HrRecord r;
  r.employee_id = "E1";
  r.given_name = "Jane";
  r.family_name = "Doe";
  r.department = "Sales";
  r.title = "Account Executive";
  r.location = "Berlin";
  r.employment_type = "employee";
  r.status = "active";
  return r;
}

// The live account that applying the plan for `r` would produce.
LiveAccount liveFor(const hr::HrRecord& r, uint32_t uac = 512) {
  DesiredAccount d = desired(r);
  LiveAccount live;
  live.dn = d.dn();
  for (size_t i = 0; i < d.owned_values.size(); ++i) {
    if (!d.owned_values[i].empty()) live.attributes[kOwnedAttributes[i]] = d.owned_values[i];
  }
  live.user_account_control = uac;
  live.sam_account_name = d.sam_account_name;
  return live;
}

const AttributeChange* findChange(const Operation& op, const std::string& attr) {
  for (const auto& m : op.modifications) {
    if (m.attribute == attr) return &m;
  }
  return nullptr;
}

TEST(Planner, NewHireIsOneAddWithOwnedAttributesAndPasswordPlaceholder) {
  Plan p = plan(desired(jane()), std::nullopt);
  ASSERT_EQ(p.operations.size(), 1u);
  const Operation& op = p.operations[0];
  EXPECT_EQ(op.kind, OperationKind::kCreate);
  EXPECT_EQ(op.dn, "CN=Jane Doe,OU=Staff,DC=example,DC=test");
  EXPECT_EQ(op.reason, "new hire");
  ASSERT_NE(findChange(op, "objectClass"), nullptr);
  EXPECT_EQ(findChange(op, "objectClass")->values, std::vector<std::string>{"user"});
  EXPECT_EQ(findChange(op, "sAMAccountName")->values[0], "jdoe");
  EXPECT_EQ(findChange(op, "userPrincipalName")->values[0], "jdoe@example.test");
  EXPECT_EQ(findChange(op, "department")->values[0], "Sales");
  EXPECT_EQ(findChange(op, "physicalDeliveryOfficeName")->values[0], "Berlin");
  EXPECT_EQ(findChange(op, "employeeID")->values[0], "E1");
  EXPECT_EQ(findChange(op, "employeeType")->values[0], "employee");
  EXPECT_EQ(findChange(op, "userAccountControl")->values[0], "512");
  EXPECT_EQ(findChange(op, "pwdLastSet")->values[0], "0");
  ASSERT_NE(findChange(op, kPasswordAttribute), nullptr);
  EXPECT_TRUE(findChange(op, kPasswordAttribute)->values.empty());
  EXPECT_EQ(findChange(op, "manager"), nullptr);
}

TEST(Planner, NewHireOnLeaveIsCreatedDisabled) {
  hr::HrRecord r = jane();
  r.status = "leave";
  Plan p = plan(desired(r), std::nullopt);
  ASSERT_EQ(p.operations.size(), 1u);
  EXPECT_EQ(findChange(p.operations[0], "userAccountControl")->values[0], "514");
}

TEST(Planner, TerminatedPersonWithoutAccountGetsNothing) {
  hr::HrRecord r = jane();
  r.status = "terminated";
  EXPECT_TRUE(plan(desired(r), std::nullopt).empty());
}

TEST(Planner, NothingToDoWhenLiveMatches) {
  hr::HrRecord r = jane();
  LiveAccount live = liveFor(r);
  live.attributes["mail"] = "jane@example.test";                       // not owned: ignored
  live.attributes["manager"] = "CN=Boss,OU=Staff,DC=example,DC=test";  // unresolved: untouched
  r.manager_id = "E9";
  Plan p = plan(desired(r), live);
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.final_dn, live.dn);
}

TEST(Planner, OnlyChangedAttributesAreModified) {
  LiveAccount live = liveFor(jane());
  hr::HrRecord r = jane();
  r.department = "Marketing";
  r.location = "";
  Plan p = plan(desired(r), live);
  ASSERT_EQ(p.operations.size(), 1u);
  const Operation& op = p.operations[0];
  EXPECT_EQ(op.kind, OperationKind::kModify);
  EXPECT_EQ(op.dn, live.dn);
  EXPECT_EQ(op.changes, (std::vector<std::string>{"department", "physicalDeliveryOfficeName"}));
  ASSERT_EQ(op.modifications.size(), 2u);
  EXPECT_EQ(op.modifications[0],
            (AttributeChange{AttributeChange::Op::kReplace, "department", {"Marketing"}}));
  EXPECT_EQ(op.modifications[1],
            (AttributeChange{AttributeChange::Op::kDelete, "physicalDeliveryOfficeName", {}}));
  EXPECT_EQ(
      op.reason,
      "HR changed department: Sales → Marketing; physicalDeliveryOfficeName: Berlin → (none)");
}

TEST(Planner, ResolvedManagerIsComparedByDn) {
  hr::HrRecord r = jane();
  r.manager_id = "E9";
  LiveAccount live = liveFor(r);
  live.attributes["manager"] = "cn=Boss,ou=Staff,dc=example,dc=test";
  DesiredAccount d = desired(r);
  d.manager_dn = "CN=Boss,OU=Staff,DC=example,DC=test";
  EXPECT_TRUE(plan(d, live).empty());
  d.manager_dn = "CN=Other Boss,OU=Staff,DC=example,DC=test";
  Plan p = plan(d, live);
  ASSERT_EQ(p.operations.size(), 1u);
  EXPECT_EQ(p.operations[0].changes, std::vector<std::string>{"manager"});
}

TEST(Planner, ManagerRemovedInHrIsDeleted) {
  LiveAccount live = liveFor(jane());
  live.attributes["manager"] = "CN=Boss,OU=Staff,DC=example,DC=test";
  Plan p = plan(desired(jane()), live);
  ASSERT_EQ(p.operations.size(), 1u);
  EXPECT_EQ(p.operations[0].modifications[0],
            (AttributeChange{AttributeChange::Op::kDelete, "manager", {}}));
}

TEST(Planner, DisableKeepsOtherUacBits) {
  hr::HrRecord r = jane();
  LiveAccount live = liveFor(r, 512 | 0x10000);  // DONT_EXPIRE_PASSWORD set by an admin
  r.status = "leave";
  Plan p = plan(desired(r), live);
  ASSERT_EQ(p.operations.size(), 1u);
  EXPECT_EQ(p.operations[0].kind, OperationKind::kDisable);
  EXPECT_EQ(p.operations[0].modifications[0].values[0], std::to_string(512 | 0x10000 | 2));
  EXPECT_EQ(p.operations[0].reason, "leave");
}

TEST(Planner, TerminatedWithLeaversOuDisablesExpiresThenMoves) {
  hr::HrRecord r = jane();
  LiveAccount live = liveFor(r);
  r.status = "terminated";
  Plan p = plan(desired(r), live);
  ASSERT_EQ(p.operations.size(), 3u);
  EXPECT_EQ(p.operations[0].kind, OperationKind::kDisable);
  EXPECT_EQ(p.operations[0].dn, live.dn);
  EXPECT_EQ(p.operations[0].reason, "terminated: status terminated");
  EXPECT_EQ(p.operations[1].kind, OperationKind::kModify);
  EXPECT_EQ(p.operations[1].changes, std::vector<std::string>{"accountExpires"});
  EXPECT_EQ(p.operations[1].modifications[0].values[0],
            std::to_string(unixToFileTime(context().now_unix)));
  EXPECT_EQ(p.operations[2].kind, OperationKind::kMove);
  EXPECT_EQ(p.operations[2].dn, live.dn);
  EXPECT_EQ(p.operations[2].target, kLeaversOu);
  EXPECT_EQ(p.final_dn, "CN=Jane Doe,OU=Leavers,DC=example,DC=test");

  // Applied: nothing more to do, also on a later day (the expiry in the past stands).
  LiveAccount after = live;
  after.dn = p.final_dn;
  after.user_account_control = 514;
  after.attributes["accountExpires"] = p.operations[1].modifications[0].values[0];
  EXPECT_TRUE(plan(desired(r), after).empty());
  auto later = desiredAccount(r, policy::defaultPolicy(), [] {
    DesiredContext c = context();
    c.now_unix += 86400 * 3;
    return c;
  }());
  ASSERT_TRUE(later.isOk());
  EXPECT_TRUE(plan(*later, after).empty());
}

TEST(Planner, RehireMovesBackThenEnables) {
  hr::HrRecord r = jane();
  LiveAccount live = liveFor(r, 514);
  live.dn = "CN=Jane Doe,OU=Leavers,DC=example,DC=test";
  Plan p = plan(desired(r), live);
  ASSERT_EQ(p.operations.size(), 2u);
  EXPECT_EQ(p.operations[0].kind, OperationKind::kMove);
  EXPECT_EQ(p.operations[0].target, kUsersOu);
  EXPECT_EQ(p.operations[1].kind, OperationKind::kEnable);
  EXPECT_EQ(p.operations[1].dn, "CN=Jane Doe,OU=Staff,DC=example,DC=test");
  EXPECT_EQ(p.operations[1].modifications[0].values[0], "512");
  EXPECT_EQ(p.operations[1].reason, "rehire: active");
}

TEST(Planner, AccountInASubOuOfUsersStaysPut) {
  LiveAccount live = liveFor(jane());
  live.dn = "CN=Jane Doe,OU=Sales,OU=Staff,DC=example,DC=test";
  EXPECT_TRUE(plan(desired(jane()), live).empty());
}

TEST(Planner, ReturningFromLeaveOnlyEnables) {
  hr::HrRecord r = jane();
  LiveAccount live = liveFor(r, 514);
  Plan p = plan(desired(r), live);
  ASSERT_EQ(p.operations.size(), 1u);
  EXPECT_EQ(p.operations[0].kind, OperationKind::kEnable);
}

}  // namespace
}  // namespace tenure::lifecycle
