#pragma once
// DpapiNodeKeyStore: the Windows NodeKeyStore. The record (the same JSON as on Linux) is encrypted
// with DPAPI in machine scope and kept in `<state_dir>\node_key.dpapi`: only code running on this
// machine can decrypt it, so a copied file or backup is useless elsewhere. The state directory is
// created with an ACL for SYSTEM and Administrators only (the service runs as LocalSystem).

#include <filesystem>
#include <string>

#include "agent/enroll/node_key_store.h"

namespace tenure::agent {

class DpapiNodeKeyStore final : public NodeKeyStore {
 public:
  explicit DpapiNodeKeyStore(std::filesystem::path state_dir);

  Result<std::optional<NodeKeyRecord>> load() override;
  // Written to a temporary file and moved into place (MoveFileEx, write-through).
  Status save(const NodeKeyRecord& record) override;
  Status clear() override;

  const std::filesystem::path& filePath() const { return file_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path file_;
};

// DPAPI machine-scope protection of arbitrary bytes (also for other secrets kept by the agent).
// `purpose` is mixed in as DPAPI's optional entropy, so a blob made for one purpose does not
// decrypt as another.
Result<std::string> dpapiProtect(std::string_view plain, std::string_view purpose);
Result<std::string> dpapiUnprotect(std::string_view blob, std::string_view purpose);

// Creates `dir` (and parents) when missing; a directory this creates gets a protected DACL that
// grants full control to SYSTEM and Administrators only.
Status ensurePrivateDirectory(const std::filesystem::path& dir);

}  // namespace tenure::agent
