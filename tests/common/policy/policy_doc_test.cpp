// The full example policy in docs/policy.md must stay valid and mean what the text says.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "common/policy/name_template.h"
#include "common/policy/policy.h"

namespace tenure::policy {
namespace {

std::string fullExampleFromDocs() {
  std::ifstream in(std::string(TENURE_SOURCE_DIR) + "/docs/policy.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t section = doc.find("## A full example");
  if (section == std::string::npos) return {};
  const size_t open = doc.find("```json\n", section);
  const size_t close = doc.find("```", open + 8);
  if (open == std::string::npos || close == std::string::npos) return {};
  return doc.substr(open + 8, close - open - 8);
}

TEST(PolicyDoc, FullExampleIsValidAndPlacesPepeAsDocumented) {
  const std::string text = fullExampleFromDocs();
  ASSERT_FALSE(text.empty());
  std::vector<PolicyError> errors;
  auto p = parsePolicy(boost::json::parse(text), &errors);
  ASSERT_TRUE(p.isOk()) << p.status().toString();

  hr::HrRecord r{.employee_id = "E1",
                 .given_name = "José",
                 .family_name = "Núñez",
                 .preferred_name = "Pepe",
                 .department = "Sales",
                 .location = "München",
                 .employment_type = "employee",
                 .status = "active"};
  const NamingPolicy& n = p->naming;
  NameContext ctx{.record = &r,
                  .computed = {{"upn_suffix", n.upn_suffix}, {"mail_domain", n.mail_domain}}};
  ctx.computed["display_name"] = applyRule(n.display_name, ctx).value();
  ctx.computed["sam_account_name"] = applyRule(n.sam_account_name, ctx).value();
  EXPECT_EQ(ctx.computed["sam_account_name"], "pnunez");
  EXPECT_EQ(applyRule(n.user_principal_name, ctx).value(), "pnunez@example.com");
  EXPECT_EQ(applyRule(n.mail, ctx).value(), "jose.nunez");
  EXPECT_EQ(applyRule(n.cn, ctx).value(), "Pepe Núñez (pnunez)");

  auto placed = [&](const hr::HrRecord& who) {
    for (const auto& rule : p->placement.rules) {
      if (rule.when.matches(who)) return rule.ou;
    }
    return p->placement.default_ou;
  };
  auto groupsOf = [&](const hr::HrRecord& who) {
    std::vector<std::string> out;
    for (const auto& rule : p->groups) {
      if (rule.when.matches(who)) out.insert(out.end(), rule.groups.begin(), rule.groups.end());
    }
    return out;
  };
  EXPECT_EQ(placed(r), "OU=Sales DE,OU=People,DC=corp,DC=example,DC=com");
  EXPECT_EQ(groupsOf(r),
            (std::vector<std::string>{"CN=All Employees,OU=Groups,DC=corp,DC=example,DC=com",
                                      "CN=Sales,OU=Groups,DC=corp,DC=example,DC=com",
                                      "CN=CRM Users,OU=Groups,DC=corp,DC=example,DC=com"}));
  r.employment_type = "contractor";
  EXPECT_EQ(placed(r), "OU=External,OU=People,DC=corp,DC=example,DC=com");
  EXPECT_EQ(groupsOf(r).size(), 3u);  // External Staff, Sales, CRM Users

  EXPECT_EQ(p->employment_types.at("intern").max_days, 183);
  EXPECT_TRUE(p->employment_types.at("intern").end_date_required);  // kept from the default
  EXPECT_FALSE(p->thresholds.group_removals.max_percent.has_value());
}

}  // namespace
}  // namespace tenure::policy
