#include "common/lifecycle/mailbox.h"

#include <algorithm>

#include "common/base/utf8.h"

namespace tenure::lifecycle {

namespace {

char lowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// asciiLower(a) == asciiLower(b), without the two copies (this runs for every address of every
// person with a mailbox).
bool sameAddress(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

// smtpAddressOf as a view.
std::string_view smtpView(std::string_view proxy) {
  if (proxy.size() < 5 || !sameAddress(proxy.substr(0, 5), "smtp:")) return {};
  return proxy.substr(5);
}

std::string localPart(std::string_view mail) {
  const size_t at = mail.find('@');
  return std::string(at == std::string_view::npos ? mail : mail.substr(0, at));
}

}  // namespace

std::string smtpAddressOf(std::string_view proxy) { return std::string(smtpView(proxy)); }

bool isPrimarySmtp(std::string_view proxy) { return proxy.substr(0, 5) == "SMTP:"; }

MailboxState mailboxFor(std::string_view sam, std::string_view mail,
                        std::string_view remote_routing_domain, bool hidden) {
  MailboxState m;
  m.hidden = hidden;
  if (mail.empty()) return m;
  m.mail_nickname = std::string(sam);
  m.primary = "SMTP:" + std::string(mail);
  if (!remote_routing_domain.empty()) {
    const std::string routing = localPart(mail) + "@" + std::string(remote_routing_domain);
    m.target_address = "SMTP:" + routing;
    m.secondary.push_back("smtp:" + routing);
  }
  return m;
}

ProxyAddressChange proxyAddressChange(const std::vector<std::string>& live,
                                      const MailboxState& desired, std::string_view live_mail,
                                      bool keep_old_addresses) {
  ProxyAddressChange c;
  if (desired.primary.empty()) return c;
  const std::string_view primary = smtpView(desired.primary);
  bool primary_present = false;
  for (const std::string& v : live) {
    const std::string_view addr = smtpView(v);
    if (addr.empty()) continue;  // X500:, sip:, ...: not ours
    if (sameAddress(addr, primary)) {
      if (v == desired.primary) {
        primary_present = true;
      } else {
        c.remove.push_back(v);  // a secondary (or differently written primary) to promote
      }
      continue;
    }
    if (isPrimarySmtp(v)) {
      c.remove.push_back(v);
      const bool ours = !live_mail.empty() && sameAddress(addr, live_mail);
      if (keep_old_addresses || !ours) c.add.push_back("smtp:" + std::string(addr));
    }
  }
  if (!primary_present) c.add.push_back(desired.primary);
  // The address the account had as `mail` stays reachable after a name change, even when it never
  // was a proxy address.
  if (keep_old_addresses && !live_mail.empty() && !sameAddress(live_mail, primary)) {
    const bool present = std::any_of(live.begin(), live.end(), [&](const std::string& v) {
      return sameAddress(smtpView(v), live_mail);
    });
    const bool added = std::any_of(c.add.begin(), c.add.end(), [&](const std::string& v) {
      return sameAddress(smtpView(v), live_mail);
    });
    if (!present && !added) c.add.push_back("smtp:" + std::string(live_mail));
  }
  for (const std::string& s : desired.secondary) {
    const std::string_view addr = smtpView(s);
    const bool present = std::any_of(live.begin(), live.end(), [&](const std::string& v) {
      return sameAddress(smtpView(v), addr);
    });
    const bool added = std::any_of(c.add.begin(), c.add.end(), [&](const std::string& v) {
      return sameAddress(smtpView(v), addr);
    });
    if (!present && !added) c.add.push_back(s);
  }
  return c;
}

std::vector<std::string> applyProxyAddressChange(std::vector<std::string> live,
                                                 const ProxyAddressChange& change) {
  for (const auto& r : change.remove) {
    auto it = std::find_if(live.begin(), live.end(),
                           [&](const std::string& v) { return sameAddress(v, r); });
    if (it != live.end()) live.erase(it);
  }
  for (const auto& a : change.add) live.push_back(a);
  return live;
}

}  // namespace tenure::lifecycle
