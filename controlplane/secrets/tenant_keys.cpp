#include "controlplane/secrets/tenant_keys.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "common/base/crypto.h"

namespace tenure::cp {

namespace fs = std::filesystem;

namespace {

constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr std::string_view kSealedPrefix = "v1:";

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The AAD a data key is wrapped with: a wrapped key copied to another tenant's row does not open.
std::string wrapAad(const std::string& tenant_id) {
  return std::string("tenure-data-key\0", 16) + tenant_id;
}

std::string sealAad(const std::string& tenant_id, std::string_view context) {
  std::string aad = tenant_id;
  aad.push_back('\0');
  aad.append(context);
  return aad;
}

std::string keyBytes(const SecretKey& k) {
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

SecretKey randomKey() {
  auto bytes = randomBytes(32);
  SecretKey k;
  std::memcpy(k.data(), bytes.data(), k.size());
  return k;
}

Status fsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return configError("cannot open " + path + ": " + std::strerror(errno), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return internalError("fsync " + path + ": " + std::strerror(err), err);
  return Status::ok();
}

Status fsyncParent(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  return fsyncPath(parent.empty() ? "." : parent.string(), O_RDONLY | O_DIRECTORY);
}

// Writes the key to `path` with mode 0600, created exclusively (fails when it exists), fsynced.
Status writeKeyFileExclusive(const std::string& path, const SecretKey& key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) return conflictError(path + " exists", err);
    return configError("cannot create " + path + ": " + std::strerror(err), err);
  }
  ssize_t n = ::write(fd, key.data(), key.size());
  int err = errno;
  bool ok = n == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  if (!ok && n >= 0) err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return internalError("cannot write " + path + ": " + std::strerror(err), err);
  }
  return Status::ok();
}

Result<std::optional<SecretKey>> readKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<SecretKey>();
    return configError("cannot open " + path + ": " + std::strerror(errno), errno);
  }
  struct stat sb {};
  if (::fstat(fd, &sb) == 0 && (sb.st_mode & 077) != 0) {
    ::close(fd);
    return configError(path + " must not be readable by group or others (chmod 600)");
  }
  SecretKey key;
  unsigned char extra;
  ssize_t n = ::read(fd, key.data(), key.size());
  ssize_t more = n == static_cast<ssize_t>(key.size()) ? ::read(fd, &extra, 1) : 0;
  ::close(fd);
  if (n != static_cast<ssize_t>(key.size()) || more != 0) {
    return configError(path + " is not a master key (expected exactly 32 bytes)");
  }
  return std::optional<SecretKey>(key);
}

// Creates the key file atomically: written under a temporary name, then linked into place, so
// a crash never leaves a half-written key and two starting processes agree on one key.
Result<SecretKey> createKeyFile(const std::string& path) {
  SecretKey key = randomKey();
  const std::string tmp = path + ".tmp." + randomHex(6);
  RETURN_IF_ERROR(writeKeyFileExclusive(tmp, key));
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST) {
      ASSIGN_OR_RETURN(auto existing, readKeyFile(path));
      if (existing) return *existing;
    }
    return configError("cannot create " + path + ": " + std::strerror(err), err);
  }
  RETURN_IF_ERROR(fsyncParent(path));
  return key;
}

Result<SecretKey> unwrap(const SecretKey& master, const std::string& tenant_id,
                         std::string_view wrapped) {
  auto plain = secrets::aeadOpen(master, wrapAad(tenant_id), wrapped);
  if (!plain.isOk() || plain->size() != 32) {
    return dataError("the data key of tenant " + tenant_id + " does not open under the master key");
  }
  SecretKey k;
  std::memcpy(k.data(), plain->data(), k.size());
  return k;
}

}  // namespace

namespace secrets {

Result<std::string> aeadSeal(const SecretKey& key, std::string_view aad, std::string_view plain) {
  auto nonce = randomBytes(kNonceBytes);
  CipherCtx c;
  if (!c.ctx) return internalError("EVP_CIPHER_CTX_new failed");
  std::string out(kNonceBytes + plain.size() + kTagBytes, '\0');
  std::memcpy(out.data(), nonce.data(), kNonceBytes);
  auto* ct = reinterpret_cast<unsigned char*>(out.data() + kNonceBytes);
  int len = 0;
  if (EVP_EncryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(c.ctx, nullptr, nullptr, key.data(), nonce.data()) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(c.ctx, nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(c.ctx, ct, &len, u8(plain), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(c.ctx, ct + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, ct + plain.size()) != 1) {
    return internalError("AES-256-GCM encryption failed");
  }
  return out;
}

Result<std::string> aeadOpen(const SecretKey& key, std::string_view aad, std::string_view boxed) {
  if (boxed.size() < kNonceBytes + kTagBytes) return dataError("sealed value is truncated");
  const size_t n = boxed.size() - kNonceBytes - kTagBytes;
  std::string tag(boxed.substr(kNonceBytes + n));
  std::string out(n, '\0');
  auto* pt = reinterpret_cast<unsigned char*>(out.data());
  CipherCtx c;
  if (!c.ctx) return internalError("EVP_CIPHER_CTX_new failed");
  int len = 0;
  if (EVP_DecryptInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, key.data(), u8(boxed)) != 1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(c.ctx, nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(c.ctx, pt, &len, u8(boxed) + kNonceBytes, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1) {
    return internalError("AES-256-GCM decryption failed to start");
  }
  // The tag check: altered text, another key or another aad all end here.
  if (EVP_DecryptFinal_ex(c.ctx, pt + len, &len) != 1) {
    return dataError("sealed value does not open (altered, or sealed for another tenant or use)");
  }
  return out;
}

std::string masterFingerprint(const SecretKey& key) {
  return sha256Hex(std::string("tenure-master-key-fingerprint\0", 30) + keyBytes(key))
      .substr(0, 32);
}

}  // namespace secrets

Result<std::unique_ptr<TenantKeys>> TenantKeys::open(ControlStore& control,
                                                     const std::string& master_key_file) {
  ASSIGN_OR_RETURN(auto stored, control.dataKeys().masterFingerprint());
  ASSIGN_OR_RETURN(auto key, readKeyFile(master_key_file));
  if (!key) {
    if (stored) {
      // Making a new key now would orphan every wrapped data key.
      return configError("master key file " + master_key_file +
                         " is missing but the control DB has data keys wrapped by a master key "
                         "(restore the file, or pass --master-key-file)");
    }
    ASSIGN_OR_RETURN(SecretKey created, createKeyFile(master_key_file));
    key = created;
  }
  std::string fp = secrets::masterFingerprint(*key);
  if (stored && *stored != fp) {
    // A rotation that committed but did not get to replace the file: finish it.
    const std::string pending = master_key_file + ".new";
    ASSIGN_OR_RETURN(auto next, readKeyFile(pending));
    if (!next || secrets::masterFingerprint(*next) != *stored) {
      return configError("master key file " + master_key_file +
                         " is not the key the control DB's data keys are wrapped with");
    }
    if (::rename(pending.c_str(), master_key_file.c_str()) != 0) {
      return configError(
          "cannot finish master key rotation (rename " + pending + "): " + std::strerror(errno),
          errno);
    }
    RETURN_IF_ERROR(fsyncParent(master_key_file));
    key = next;
    fp = *stored;
  } else {
    // A rotation that never committed leaves a stale .new key: it wraps nothing.
    std::error_code ec;
    fs::remove(master_key_file + ".new", ec);
  }
  if (!stored) {
    RETURN_IF_ERROR(control.dataKeys().setMasterFingerprint(fp));
  }
  return std::unique_ptr<TenantKeys>(new TenantKeys(control, *key));
}

Status TenantKeys::rotateMaster(ControlStore& control, const std::string& master_key_file) {
  // open() settles any earlier rotation and checks the current key.
  ASSIGN_OR_RETURN(auto current, TenantKeys::open(control, master_key_file));
  const SecretKey old_key = current->master_;
  const SecretKey new_key = randomKey();
  const std::string pending = master_key_file + ".new";
  std::error_code ec;
  fs::remove(pending, ec);
  // 1. The new key is on disk before anything is wrapped with it.
  RETURN_IF_ERROR(writeKeyFileExclusive(pending, new_key));
  RETURN_IF_ERROR(fsyncParent(pending));
  // 2. Every data key and the fingerprint, in one transaction.
  RETURN_IF_ERROR(control.dataKeys().rotateMaster(
      [&](const std::string& tenant_id, const std::string& wrapped) -> Result<std::string> {
        ASSIGN_OR_RETURN(SecretKey dk, unwrap(old_key, tenant_id, wrapped));
        return secrets::aeadSeal(new_key, wrapAad(tenant_id), keyBytes(dk));
      },
      secrets::masterFingerprint(new_key)));
  // 3. The new key replaces the old one; a crash before this is finished by open().
  if (::rename(pending.c_str(), master_key_file.c_str()) != 0) {
    return internalError("rotation committed but " + pending + " was not renamed: " +
                         std::strerror(errno) + " (the next start finishes it)");
  }
  return fsyncParent(master_key_file);
}

Status TenantKeys::dropDataKey(ControlStore& control, const std::string& tenant_id) {
  return control.dataKeys().removeKey(tenant_id);
}

Status TenantKeys::forgetTenant(const std::string& tenant_id) {
  {
    std::lock_guard lock(mu_);
    cache_.erase(tenant_id);
  }
  return dropDataKey(control_, tenant_id);
}

Result<SecretKey> TenantKeys::dataKey(const std::string& tenant_id, bool create) {
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(tenant_id); it != cache_.end()) return it->second;
  }
  if (create) {
    // Only a tenant that exists gets a key: a deleted tenant's secrets stay gone.
    ASSIGN_OR_RETURN(auto tenant, control_.tenantById(tenant_id));
    if (!tenant) return notFoundError("no tenant " + tenant_id);
  }
  SecretKey fresh = randomKey();
  ASSIGN_OR_RETURN(std::string fresh_wrapped,
                   secrets::aeadSeal(master_, wrapAad(tenant_id), keyBytes(fresh)));
  std::optional<std::string> wrapped;
  if (create) {
    // Two first uses racing: the first key stored wins and both get it back.
    const std::string fp = secrets::masterFingerprint(master_);
    ASSIGN_OR_RETURN(auto added, control_.dataKeys().addWrappedKey(tenant_id, fresh_wrapped, fp));
    if (!added) {
      // A key wrapped under a master key the DB no longer names (rotated by another process
      // while this one runs) would never open again: refuse instead.
      return configError(
          "the master key was rotated while the control plane was running; "
          "restart it");
    }
    wrapped = std::move(added);
  } else {
    ASSIGN_OR_RETURN(wrapped, control_.dataKeys().wrappedKey(tenant_id));
  }
  if (!wrapped) return notFoundError("tenant " + tenant_id + " has no data key");
  ASSIGN_OR_RETURN(SecretKey key, unwrap(master_, tenant_id, *wrapped));
  std::lock_guard lock(mu_);
  cache_[tenant_id] = key;
  return key;
}

Result<std::string> TenantKeys::seal(const std::string& tenant_id, std::string_view context,
                                     std::string_view plaintext) {
  if (tenant_id.empty()) return dataError("tenant id is required");
  ASSIGN_OR_RETURN(SecretKey key, dataKey(tenant_id, /*create=*/true));
  ASSIGN_OR_RETURN(std::string boxed,
                   secrets::aeadSeal(key, sealAad(tenant_id, context), plaintext));
  return std::string(kSealedPrefix) + secrets::base64Encode(boxed);
}

Result<std::string> TenantKeys::open(const std::string& tenant_id, std::string_view context,
                                     std::string_view sealed) {
  if (sealed.substr(0, kSealedPrefix.size()) != kSealedPrefix) {
    return dataError("not a sealed value (expected the v1: prefix)");
  }
  auto boxed = secrets::base64Decode(sealed.substr(kSealedPrefix.size()));
  if (!boxed.isOk()) return dataError("sealed value is not valid base64");
  auto key = dataKey(tenant_id, /*create=*/false);
  if (!key.isOk()) {
    if (key.status().errorClass() == ErrorClass::kNotFound) {
      return dataError("sealed value does not open: the tenant has no data key");
    }
    return key.status();
  }
  return secrets::aeadOpen(*key, sealAad(tenant_id, context), *boxed);
}

}  // namespace tenure::cp
