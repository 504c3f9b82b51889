#pragma once
// ScimUserStore: a tenant's SCIM User resources (controlplane/scim): id, keys, what the client
// sent, version and times. The HR identity a resource describes lives in the tenant store
// proper; this is only what the SCIM client sees (and must get back).
// Implemented for SQLite by SqliteScimUserStore (controlplane/store/sqlite/).

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace tenure::cp {

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
  int64_t total = 0;  // rows that match, on every page
  std::vector<ScimUserRow> rows;
};

class ScimUserStore {
 public:
  virtual ~ScimUserStore() = default;

  virtual Result<std::optional<ScimUserRow>> byId(const std::string& id) = 0;
  // userName and employee IDs compare case-insensitively (ASCII), as SCIM and AD do; each is
  // unique in that sense.
  virtual Result<std::optional<ScimUserRow>> byUserName(const std::string& user_name) = 0;
  virtual Result<std::optional<ScimUserRow>> byEmployeeId(const std::string& employee_id) = 0;
  // Rows in creation order; `offset` 0-based. userName matches case-insensitively, externalId
  // exactly (caseExact in RFC 7643).
  virtual Result<ScimPage> list(ScimMatch match, const std::string& value, int64_t offset,
                                int64_t limit) = 0;

  // Fails (without writing) when the id, the userName or the employee ID is taken.
  virtual Status insert(const ScimUserRow& row) = 0;
  // Replaces the row with the same id (conflict when it is gone).
  virtual Status update(const ScimUserRow& row) = 0;
  // ok when there is no such row.
  virtual Status remove(const std::string& id) = 0;
};

}  // namespace tenure::cp
