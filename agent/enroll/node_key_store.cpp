#include "agent/enroll/node_key_store.h"

#include <boost/json.hpp>

#include "common/base/json_fields.h"

namespace tenure::agent {

std::string encodeNodeKeyRecord(const NodeKeyRecord& record) {
  boost::json::object o{
      {"node_key", record.node_key}, {"agent_id", record.agent_id}, {"cp_url", record.cp_url}};
  return boost::json::serialize(o);
}

Result<NodeKeyRecord> decodeNodeKeyRecord(std::string_view text) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return dataError("node key file is not valid JSON: " + ec.message());
  ASSIGN_OR_RETURN(const boost::json::object* o, json::asObject(v, "node key file"));
  NodeKeyRecord r;
  ASSIGN_OR_RETURN(r.node_key, json::requireString(*o, "node_key"));
  ASSIGN_OR_RETURN(r.agent_id, json::optionalString(*o, "agent_id"));
  ASSIGN_OR_RETURN(r.cp_url, json::optionalString(*o, "cp_url"));
  if (r.node_key.empty()) return dataError("node key file has an empty node_key");
  return r;
}

}  // namespace tenure::agent
