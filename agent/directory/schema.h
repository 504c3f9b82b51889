#pragma once
// What the directory's schema allows on user objects. Exchange attribute mode is only enabled where
// the Exchange recipient attributes exist (a forest whose schema Exchange setup extended);
// elsewhere the mailbox part of the policy is reported as unavailable rather than half-written.

#include <set>
#include <string>

#include "agent/directory/directory_client.h"
#include "common/base/status.h"

namespace tenure::agent {

using AttributeSet = std::set<std::string, CaseInsensitiveLess>;

// The lDAPDisplayNames of every attribute a `user` object may hold: the must/may attributes
// (system and non-system) of user, its superclasses and their auxiliary classes, read from the
// schema partition named by the rootDSE's schemaNamingContext (falling back to
// CN=Schema,CN=Configuration,<domain_dn> when the rootDSE does not say).
Result<AttributeSet> userAttributes(DirectoryClient& dir, const std::string& domain_dn);

// The attributes Exchange attribute mode writes besides mail: mailNickname, targetAddress,
// proxyAddresses, msExchHideFromAddressLists.
const AttributeSet& exchangeAttributeNames();

// True when every attribute of exchangeAttributeNames() is in `attributes`.
bool hasExchangeAttributes(const AttributeSet& attributes);

}  // namespace tenure::agent
