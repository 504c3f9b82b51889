#pragma once
// Exchange in attribute mode: the mail-enabled-user attributes of one person (mailNickname,
// proxyAddresses, targetAddress, msExchHideFromAddressLists). Pure. proxyAddresses is shared with
// Exchange and admins, so it is changed value by value: Tenure sets the primary ("SMTP:", upper
// case) and its own secondaries ("smtp:"), demotes an old primary, and never drops an address it
// did not add (the one exception: with keep_old_addresses off, the old primary that was the
// account's `mail`, i.e. Tenure's own address, is dropped instead of demoted).

#include <string>
#include <string_view>
#include <vector>

namespace tenure::lifecycle {

inline constexpr const char* kMailNickname = "mailNickname";
inline constexpr const char* kProxyAddresses = "proxyAddresses";
inline constexpr const char* kTargetAddress = "targetAddress";
inline constexpr const char* kHideFromAddressLists = "msExchHideFromAddressLists";
// What an outcome notes when the policy wants mailboxes but the directory schema has no Exchange
// attributes.
inline constexpr const char* kMailboxUnavailable = "mailbox_unavailable";

// The desired Exchange attributes of one person.
struct MailboxState {
  std::string mail_nickname;           // the sAMAccountName
  std::string primary;                 // "SMTP:jane.doe@example.com"
  std::vector<std::string> secondary;  // "smtp:..." addresses Tenure adds (the routing address)
  std::string target_address;          // "SMTP:jane.doe@contoso.mail.onmicrosoft.com" or ""
  bool hidden = false;                 // msExchHideFromAddressLists TRUE
};

// `mail` is the primary address ("" yields an empty state); a non-empty `remote_routing_domain`
// makes it a remote mailbox (targetAddress plus a secondary routing address).
MailboxState mailboxFor(std::string_view sam_account_name, std::string_view mail,
                        std::string_view remote_routing_domain, bool hidden);

// The value changes that bring `live` proxyAddresses to `desired`: delete these values, then add
// these. `live_mail` is the account's current `mail` (the address Tenure manages).
struct ProxyAddressChange {
  std::vector<std::string> remove;
  std::vector<std::string> add;
  bool empty() const { return remove.empty() && add.empty(); }
};
ProxyAddressChange proxyAddressChange(const std::vector<std::string>& live,
                                      const MailboxState& desired, std::string_view live_mail,
                                      bool keep_old_addresses);

// `live` with a change applied (for tests and for predicting the state after a plan).
std::vector<std::string> applyProxyAddressChange(std::vector<std::string> live,
                                                 const ProxyAddressChange& change);

// "SMTP:a@b" → "a@b"; "" for other address types (X500:, sip:, ...).
std::string smtpAddressOf(std::string_view proxy);
bool isPrimarySmtp(std::string_view proxy);

}  // namespace tenure::lifecycle
