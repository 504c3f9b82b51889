#pragma once
// NodeKeyStore: where the agent keeps the node key the control plane issued at enrollment, so a
// restart does not need the (possibly one-time) enrollment secret again. Abstract because the
// protection differs per platform: a 0600 file on POSIX (FileNodeKeyStore), DPAPI on Windows.

#include <filesystem>
#include <optional>
#include <string>

#include "common/base/status.h"

namespace tenure::agent {

struct NodeKeyRecord {
  std::string node_key;
  std::string agent_id;
  std::string cp_url;  // the control plane that issued the key; a key is only valid there
};

class NodeKeyStore {
 public:
  virtual ~NodeKeyStore() = default;
  // nullopt when nothing is stored; an error when something is stored but unreadable or corrupt.
  virtual Result<std::optional<NodeKeyRecord>> load() = 0;
  // Replaces the stored record atomically: a crash leaves either the old or the new record.
  virtual Status save(const NodeKeyRecord& record) = 0;
  // Removes the stored record; ok when there was none.
  virtual Status clear() = 0;
};

// `<state_dir>/node_key.json`, mode 0600, written via tmp file + fsync + rename; the state
// directory is created with mode 0700 when missing.
class FileNodeKeyStore final : public NodeKeyStore {
 public:
  explicit FileNodeKeyStore(std::filesystem::path state_dir);

  Result<std::optional<NodeKeyRecord>> load() override;
  Status save(const NodeKeyRecord& record) override;
  Status clear() override;

  const std::filesystem::path& filePath() const { return file_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path file_;
};

// The on-disk JSON form, shared by every store implementation.
std::string encodeNodeKeyRecord(const NodeKeyRecord& record);
Result<NodeKeyRecord> decodeNodeKeyRecord(std::string_view text);

}  // namespace tenure::agent
