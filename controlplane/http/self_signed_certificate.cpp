// ensureSelfSignedCertificate: a first-run certificate so the control plane speaks HTTPS before an
// operator installs a real one. The certificate is its own trust anchor (clients pin it with
// --cacert), hence basicConstraints CA:TRUE.

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/http/http_server.h"

namespace tenure::cp {

namespace {

constexpr long kValidityDays = 825;  // the longest validity Apple/Chrome accept for TLS servers

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string opensslError(std::string_view what) {
  std::string msg(what);
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  return msg;
}

std::string subjectAltNames(const std::vector<std::string>& extra_names) {
  std::vector<std::string> entries = {"DNS:localhost", "IP:127.0.0.1", "IP:::1"};
  for (const auto& name : extra_names) {
    if (name.empty()) continue;
    boost::system::error_code ec;
    boost::asio::ip::make_address(name, ec);
    std::string entry = (ec ? "DNS:" : "IP:") + name;
    if (std::find(entries.begin(), entries.end(), entry) == entries.end()) entries.push_back(entry);
  }
  std::string out;
  for (const auto& e : entries) {
    if (!out.empty()) out += ",";
    out += e;
  }
  return out;
}

Status addExtension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) return internalError(opensslError("cannot build X509v3 extension " + value));
  if (X509_add_ext(cert, ext.get(), -1) != 1) {
    return internalError(opensslError("cannot add X509v3 extension " + value));
  }
  return Status::ok();
}

Result<std::string> toPem(const std::function<int(BIO*)>& write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return internalError(opensslError("cannot encode PEM"));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// Writes next to `path` and renames, so a reader never sees half a file; `mode` is applied before
// any byte is written.
Status writeFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return configError("cannot create " + tmp + ": " + std::strerror(errno), errno);
  Status st;
  if (::fchmod(fd, mode) != 0) st = configError("cannot chmod " + tmp, errno);
  size_t off = 0;
  while (st.isOk() && off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      st = configError("cannot write " + tmp + ": " + std::strerror(errno), errno);
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (st.isOk() && ::fsync(fd) != 0) st = configError("cannot sync " + tmp, errno);
  ::close(fd);
  if (st.isOk() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    st = configError("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno), errno);
  }
  if (!st.isOk()) ::unlink(tmp.c_str());
  return st;
}

Status createParentDirectory(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return Status::ok();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return configError("cannot create directory " + parent.string() + ": " + ec.message());
  return Status::ok();
}

}  // namespace

Status ensureSelfSignedCertificate(const std::string& cert_path, const std::string& key_path,
                                   const std::vector<std::string>& extra_names) {
  std::error_code ec;
  const bool have_cert = std::filesystem::exists(cert_path, ec);
  const bool have_key = std::filesystem::exists(key_path, ec);
  if (have_cert && have_key) return Status::ok();
  if (have_cert || have_key) {
    // Never overwrite an operator's file: half a pair needs a human to look at it.
    return configError("only one of " + cert_path + " and " + key_path +
                       " exists; remove it or provide both");
  }

  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return internalError(opensslError("cannot generate EC P-256 key"));

  X509Ptr cert(X509_new());
  if (!cert) return internalError(opensslError("cannot allocate certificate"));
  X509_set_version(cert.get(), X509_VERSION_3);

  // A random 159-bit positive serial, as RFC 5280 asks for unpredictable serials.
  std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> serial(BN_new());
  if (!serial || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      !BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) {
    return internalError(opensslError("cannot set certificate serial"));
  }
  // Backdated an hour so a client with a slightly slow clock accepts it at once.
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidityDays * 24L * 3600L)) {
    return internalError(opensslError("cannot set certificate validity"));
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Tenure"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tenure-cp self-signed"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_set_pubkey(cert.get(), key.get()) != 1) {
    return internalError(opensslError("cannot set certificate key"));
  }

  RETURN_IF_ERROR(addExtension(cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  RETURN_IF_ERROR(
      addExtension(cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign"));
  RETURN_IF_ERROR(addExtension(cert.get(), NID_ext_key_usage, "serverAuth"));
  RETURN_IF_ERROR(addExtension(cert.get(), NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(
      addExtension(cert.get(), NID_subject_alt_name, subjectAltNames(extra_names)));

  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return internalError(opensslError("cannot sign certificate"));
  }

  ASSIGN_OR_RETURN(std::string key_pem, toPem([&](BIO* bio) {
                     return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr,
                                                     nullptr);
                   }));
  ASSIGN_OR_RETURN(std::string cert_pem,
                   toPem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); }));

  RETURN_IF_ERROR(createParentDirectory(key_path));
  RETURN_IF_ERROR(createParentDirectory(cert_path));
  RETURN_IF_ERROR(writeFileAtomically(key_path, key_pem, 0600));
  RETURN_IF_ERROR(writeFileAtomically(cert_path, cert_pem, 0644));
  return Status::ok();
}

}  // namespace tenure::cp
