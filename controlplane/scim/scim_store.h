#pragma once
// ScimStore: the SCIM User resources of one tenant (id, JSON, meta), kept in that tenant's own
// SQLite file in the component schema "scim". The HR identity a resource describes lives in the
// tenant store proper; this is only what the SCIM client sees (and what it must get back).

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "controlplane/store/tenant_store.h"

namespace tenure::cp::scim {

struct ScimUserRow {
  std::string id;
  std::string user_name;
  std::string external_id;
  std::string employee_id;          // the HR anchor the resource maps to
  std::string manager_id;           // SCIM id of the manager's User, "" when none
  std::string manager_employee_id;  // what manager_id resolved to when last written
  boost::json::object resource;     // attributes as stored (never id, meta or password)
  int64_t version = 1;
  int64_t created_ms = 0;
  int64_t modified_ms = 0;
};

// Which rows a listing reads.
enum class ScimMatch { kAll, kUserName, kExternalId };

struct ScimPage {
  int64_t total = 0;
  std::vector<ScimUserRow> rows;
};

class ScimStore {
 public:
  explicit ScimStore(TenantStore& store) : store_(store) {}

  // Creates or upgrades the component schema; cheap when already current.
  Status migrate();

  Result<std::optional<ScimUserRow>> byId(const std::string& id);
  // userName and employee IDs compare case-insensitively (ASCII), as SCIM and AD do.
  Result<std::optional<ScimUserRow>> byUserName(const std::string& user_name);
  Result<std::optional<ScimUserRow>> byEmployeeId(const std::string& employee_id);
  // Rows in creation order; `offset` 0-based. userName matches case-insensitively, externalId
  // exactly (caseExact in RFC 7643).
  Result<ScimPage> list(ScimMatch match, const std::string& value, int64_t offset, int64_t limit);

  Status insert(const ScimUserRow& row);
  // Replaces the row with the same id (conflict when it is gone).
  Status update(const ScimUserRow& row);
  Status remove(const std::string& id);

 private:
  TenantStore& store_;
};

std::string asciiLowerCopy(std::string_view s);

}  // namespace tenure::cp::scim
