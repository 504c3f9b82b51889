#include "controlplane/store/sqlite/sqlite_scim_user_store.h"

#include <boost/json.hpp>

namespace tenure::cp {

namespace bj = boost::json;

namespace {

// The keys userName and employee IDs are unique and found by: ASCII lower case.
std::string asciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

constexpr const char* kColumns =
    "id, user_name, external_id, employee_id, manager_id, manager_employee_id, resource, "
    "version, created_ms, modified_ms";

ScimUserRow rowFrom(const sqlite::Statement& st) {
  ScimUserRow r;
  r.id = st.columnText(0);
  r.user_name = st.columnText(1);
  r.external_id = st.columnText(2);
  r.employee_id = st.columnText(3);
  r.manager_id = st.columnText(4);
  r.manager_employee_id = st.columnText(5);
  boost::system::error_code ec;
  bj::value v = bj::parse(st.columnText(6), ec);
  if (!ec && v.is_object()) r.resource = std::move(v.get_object());
  r.version = st.columnInt64(7);
  r.created_ms = st.columnInt64(8);
  r.modified_ms = st.columnInt64(9);
  return r;
}

Result<std::optional<ScimUserRow>> one(sqlite::Database& db, const std::string& where,
                                       const std::string& value) {
  ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kColumns +
                                       " FROM scim_users WHERE " + where + " = ?"));
  st.bindText(1, value);
  ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<ScimUserRow>();
  return std::optional<ScimUserRow>(rowFrom(st));
}

void bindRow(sqlite::Statement& st, const ScimUserRow& r) {
  st.bindText(":id", r.id)
      .bindText(":user_name", r.user_name)
      .bindText(":user_key", asciiLower(r.user_name))
      .bindText(":external_id", r.external_id)
      .bindText(":employee_id", r.employee_id)
      .bindText(":employee_key", asciiLower(r.employee_id))
      .bindText(":manager_id", r.manager_id)
      .bindText(":manager_employee_id", r.manager_employee_id)
      .bindText(":resource", bj::serialize(r.resource))
      .bindInt64(":version", r.version)
      .bindInt64(":created_ms", r.created_ms)
      .bindInt64(":modified_ms", r.modified_ms);
}

}  // namespace

const std::vector<std::string>& SqliteScimUserStore::migrations() {
  static const std::vector<std::string> kMigrations = {R"sql(
CREATE TABLE scim_users (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  user_name TEXT NOT NULL,
  user_key TEXT NOT NULL UNIQUE,
  external_id TEXT NOT NULL DEFAULT '',
  employee_id TEXT NOT NULL,
  employee_key TEXT NOT NULL UNIQUE,
  manager_id TEXT NOT NULL DEFAULT '',
  manager_employee_id TEXT NOT NULL DEFAULT '',
  resource TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  modified_ms INTEGER NOT NULL
);
CREATE INDEX scim_users_external_id ON scim_users(external_id);
)sql"};
  return kMigrations;
}

Result<std::optional<ScimUserRow>> SqliteScimUserStore::byId(const std::string& id) {
  return conn_.run([&](sqlite::Database& db) { return one(db, "id", id); });
}

Result<std::optional<ScimUserRow>> SqliteScimUserStore::byUserName(const std::string& user_name) {
  return conn_.run(
      [&](sqlite::Database& db) { return one(db, "user_key", asciiLower(user_name)); });
}

Result<std::optional<ScimUserRow>> SqliteScimUserStore::byEmployeeId(
    const std::string& employee_id) {
  return conn_.run(
      [&](sqlite::Database& db) { return one(db, "employee_key", asciiLower(employee_id)); });
}

Result<ScimPage> SqliteScimUserStore::list(ScimMatch match, const std::string& value,
                                           int64_t offset, int64_t limit) {
  return conn_.run([&](sqlite::Database& db) -> Result<ScimPage> {
    std::string where;
    std::string bound = value;
    if (match == ScimMatch::kUserName) {
      where = " WHERE user_key = ?1";
      bound = asciiLower(value);
    } else if (match == ScimMatch::kExternalId) {
      where = " WHERE external_id = ?1";
    }
    ScimPage page;
    {
      ASSIGN_OR_RETURN(auto st, db.prepare("SELECT COUNT(*) FROM scim_users" + where));
      if (match != ScimMatch::kAll) st.bindText(1, bound);
      ASSIGN_OR_RETURN(bool row, st.step());
      if (row) page.total = st.columnInt64(0);
    }
    ASSIGN_OR_RETURN(auto st, db.prepare(std::string("SELECT ") + kColumns + " FROM scim_users" +
                                         where + " ORDER BY seq LIMIT ?2 OFFSET ?3"));
    if (match != ScimMatch::kAll) st.bindText(1, bound);
    st.bindInt64(2, limit).bindInt64(3, offset);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      page.rows.push_back(rowFrom(st));
    }
    return page;
  });
}

Status SqliteScimUserStore::insert(const ScimUserRow& row) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(
        auto st,
        db.prepare(
            "INSERT INTO scim_users (id, user_name, user_key, external_id, employee_id, "
            "employee_key, "
            "manager_id, manager_employee_id, resource, version, created_ms, modified_ms) VALUES "
            "(:id, :user_name, :user_key, :external_id, :employee_id, :employee_key, :manager_id, "
            ":manager_employee_id, :resource, :version, :created_ms, :modified_ms)"));
    bindRow(st, row);
    return st.run();
  });
}

Status SqliteScimUserStore::update(const ScimUserRow& row) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(
        auto st,
        db.prepare(
            "UPDATE scim_users SET user_name = :user_name, user_key = :user_key, "
            "external_id = :external_id, employee_id = :employee_id, employee_key = :employee_key, "
            "manager_id = :manager_id, manager_employee_id = :manager_employee_id, "
            "resource = :resource, version = :version, created_ms = :created_ms, "
            "modified_ms = :modified_ms WHERE id = :id"));
    bindRow(st, row);
    RETURN_IF_ERROR(st.run());
    if (db.changes() == 0) return conflictError("SCIM user " + row.id + " is gone");
    return Status::ok();
  });
}

Status SqliteScimUserStore::remove(const std::string& id) {
  return conn_.run([&](sqlite::Database& db) -> Status {
    ASSIGN_OR_RETURN(auto st, db.prepare("DELETE FROM scim_users WHERE id = ?"));
    st.bindText(1, id);
    return st.run();
  });
}

}  // namespace tenure::cp
