#include "common/lifecycle/mailbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tenure::lifecycle {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

TEST(Mailbox, NewPrimaryDemotesOldAndKeepsForeignAddresses) {
  const std::vector<std::string> live = {"SMTP:jane.doe@example.com", "smtp:jd@example.com",
                                         "X500:/o=Org/cn=jane", "sip:jane@example.com"};
  MailboxState m = mailboxFor("jdoe", "jane.smith@example.com", "", false);
  auto c = proxyAddressChange(live, m, "jane.doe@example.com", true);
  EXPECT_THAT(c.remove, ElementsAre("SMTP:jane.doe@example.com"));
  EXPECT_THAT(applyProxyAddressChange(live, c),
              UnorderedElementsAre("smtp:jane.doe@example.com", "smtp:jd@example.com",
                                   "X500:/o=Org/cn=jane", "sip:jane@example.com",
                                   "SMTP:jane.smith@example.com"));
}

TEST(Mailbox, SecondaryIsPromotedWhenItBecomesThePrimary) {
  const std::vector<std::string> live = {"SMTP:jane.smith@example.com",
                                         "smtp:jane.doe@example.com"};
  MailboxState m = mailboxFor("jdoe", "jane.doe@example.com", "", false);
  auto after =
      applyProxyAddressChange(live, proxyAddressChange(live, m, "jane.smith@example.com", true));
  EXPECT_THAT(after,
              UnorderedElementsAre("SMTP:jane.doe@example.com", "smtp:jane.smith@example.com"));
}

TEST(Mailbox, InStepAddressesNeedNoChange) {
  MailboxState m =
      mailboxFor("jdoe", "jane.doe@example.com", "contoso.mail.onmicrosoft.com", false);
  EXPECT_EQ(m.target_address, "SMTP:jane.doe@contoso.mail.onmicrosoft.com");
  const std::vector<std::string> live = {"SMTP:jane.doe@example.com",
                                         "smtp:jane.doe@contoso.mail.onmicrosoft.com"};
  EXPECT_TRUE(proxyAddressChange(live, m, "jane.doe@example.com", true).empty());
}

TEST(Mailbox, OldMailThatWasNoProxyIsKeptAsSecondary) {
  MailboxState m = mailboxFor("jdoe", "jane.smith@example.com", "", false);
  auto c = proxyAddressChange({}, m, "jane.doe@example.com", true);
  EXPECT_THAT(c.add, ElementsAre("SMTP:jane.smith@example.com", "smtp:jane.doe@example.com"));
}

}  // namespace
}  // namespace tenure::lifecycle
