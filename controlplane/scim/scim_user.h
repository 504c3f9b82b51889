#pragma once
// The SCIM User resource (RFC 7643) as Tenure understands it: which attributes are kept, how a
// PATCH (RFC 7644 §3.5.2) changes them, and how a resource becomes the HR record that enters the
// system. Pure: no I/O; the endpoint resolves the manager and supplies today's date.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/hr/hr_record.h"

namespace tenure::cp::scim {

inline constexpr const char* kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr const char* kEnterpriseSchema =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr const char* kTenureSchema =
    "urn:ietf:params:scim:schemas:extension:tenure:2.0:User";
inline constexpr const char* kErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";
inline constexpr const char* kListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr const char* kPatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
inline constexpr const char* kBulkRequestSchema =
    "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
inline constexpr const char* kBulkResponseSchema =
    "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

// ASCII lower case: SCIM attribute names, userName and employee IDs compare this way.
std::string asciiLowerCopy(std::string_view s);

// A SCIM error (RFC 7644 §3.12): HTTP status, optional scimType, human detail.
struct ScimError {
  int status = 400;
  std::string scim_type;  // invalidValue, invalidFilter, uniqueness, mutability, ...
  std::string detail;
};

// The keys a resource is found and checked by.
struct UserKeys {
  std::string user_name;
  std::string external_id;
  std::string employee_id;  // enterprise employeeNumber, else externalId
  std::string manager_ref;  // enterprise manager.value (a SCIM id), "" when none
  bool active = true;
};

// Copies the attributes Tenure keeps from a client's User into `out` with canonical names
// (attribute names are case-insensitive in SCIM), checks their types, turns Entra's "True"/
// "False" strings for `active` into booleans and drops read-only and write-only attributes (id,
// meta, password). Unknown attributes are ignored, as RFC 7644 allows.
std::optional<ScimError> sanitizeUser(const boost::json::value& in, boost::json::object& out);

// Applies a PatchOp request body to `resource` (add / replace / remove; with or without path;
// paths like `name.givenName`, `emails[type eq "work"].value`,
// `urn:...:enterprise:2.0:User:department`). The result still needs sanitizeUser().
std::optional<ScimError> applyPatch(boost::json::object& resource, const boost::json::value& body);

// Reads the keys from a sanitized resource; invalidValue when userName or the employee ID is
// missing.
std::optional<ScimError> userKeys(const boost::json::object& resource, UserKeys& keys);

// The HR record a sanitized resource describes. `manager_employee_id` is what the manager
// reference resolved to. When `deprovision` (active=false, or DELETE), the person is terminated
// effective at the start of `today` (YYYY-MM-DD): status terminated and the end date moved to
// yesterday unless it is already earlier.
hr::HrRecord toHrRecord(const boost::json::object& resource, const std::string& manager_employee_id,
                        bool deprovision, const std::string& today);

// The SCIM attribute path an HR field comes from, for error details ("name.givenName").
std::string scimPathOfHrField(std::string_view hr_field);

// Discovery documents (RFC 7643 §5-7), with the limits the endpoint enforces.
boost::json::object serviceProviderConfig(const std::string& base_url, size_t max_operations,
                                          size_t max_payload_bytes, size_t max_results);
boost::json::array schemaDocuments(const std::string& base_url);
boost::json::object userResourceType(const std::string& base_url);

}  // namespace tenure::cp::scim
