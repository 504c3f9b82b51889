#pragma once
// Server-certificate trust decisions shared by the Windows HTTP and LDAP clients (Windows build
// only; link crypt32). The Windows certificate store is always trusted; a PEM bundle from the agent's
// configuration (a private CA) can add trust, never remove it.

#include <windows.h>
#include <wincrypt.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/windows/wide.h"

namespace tenure::win {

// SECURITY_FLAG_IGNORE_UNKNOWN_CA of winhttp.h/wininet.h, as HTTPSPolicyCallbackData takes it.
inline constexpr DWORD kIgnoreUnknownCa = 0x00000100;

// The certificates of a PEM bundle in a memory store (close with CertCloseStore); nullptr and
// `error` set when none could be read.
inline HCERTSTORE loadPemBundle(const std::string& path, std::string* error) {
  std::ifstream in(std::filesystem::path(widen(path)), std::ios::binary);
  if (!in) {
    *error = "cannot read CA file " + path;
    return nullptr;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string pem = ss.str();
  HCERTSTORE store = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, nullptr);
  if (store == nullptr) {
    *error = "CertOpenStore failed";
    return nullptr;
  }
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t count = 0;
  for (size_t pos = pem.find(kBegin); pos != std::string::npos; pos = pem.find(kBegin, pos)) {
    const size_t end = pem.find(kEnd, pos);
    if (end == std::string::npos) break;
    const std::string block = pem.substr(pos, end + kEnd.size() - pos);
    pos = end + kEnd.size();
    DWORD der_len = 0;
    if (!CryptStringToBinaryA(block.c_str(), static_cast<DWORD>(block.size()),
                              CRYPT_STRING_BASE64HEADER, nullptr, &der_len, nullptr, nullptr)) {
      continue;
    }
    std::vector<BYTE> der(der_len);
    if (CryptStringToBinaryA(block.c_str(), static_cast<DWORD>(block.size()),
                             CRYPT_STRING_BASE64HEADER, der.data(), &der_len, nullptr, nullptr) &&
        CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der.data(), der_len,
                                         CERT_STORE_ADD_REPLACE_EXISTING, nullptr)) {
      ++count;
    }
  }
  if (count == 0) {
    CertCloseStore(store, 0);
    *error = "no certificate in CA file " + path;
    return nullptr;
  }
  return store;
}

// SSL policy check (validity, usage, `host` named in the certificate) of a built chain.
inline bool sslPolicyHolds(PCCERT_CHAIN_CONTEXT chain, const std::wstring& host,
                           DWORD ignore_flags) {
  HTTPSPolicyCallbackData https{};
  https.cbStruct = sizeof https;
  https.dwAuthType = AUTHTYPE_SERVER;
  https.fdwChecks = ignore_flags;
  https.pwszServerName = const_cast<wchar_t*>(host.c_str());
  CERT_CHAIN_POLICY_PARA policy{};
  policy.cbSize = sizeof policy;
  policy.pvExtraPolicyPara = &https;
  CERT_CHAIN_POLICY_STATUS status{};
  status.cbSize = sizeof status;
  return CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &policy, &status) &&
         status.dwError == 0;
}

// True when the server certificate `cert` is valid for `host` and chains either to a root the
// Windows store trusts or to one of the certificates in `private_roots` (may be nullptr).
inline bool serverCertificateTrusted(PCCERT_CONTEXT cert, HCERTSTORE private_roots,
                                     const std::wstring& host) {
  CERT_CHAIN_PARA para{};
  para.cbSize = sizeof para;
  PCCERT_CHAIN_CONTEXT chain = nullptr;
  if (!CertGetCertificateChain(nullptr, cert, nullptr, private_roots, &para, 0, nullptr, &chain)) {
    return false;
  }
  bool ok = false;
  if (chain->cChain > 0 && chain->rgpChain[0]->cElement > 0) {
    const DWORD errors = chain->TrustStatus.dwErrorStatus;
    if (errors == CERT_TRUST_NO_ERROR) {
      ok = sslPolicyHolds(chain, host, 0);
    } else if (private_roots != nullptr && (errors & ~CERT_TRUST_IS_UNTRUSTED_ROOT) == 0) {
      // Untrusted by the store: acceptable only when the root is one of ours, byte for byte.
      const CERT_SIMPLE_CHAIN* simple = chain->rgpChain[0];
      PCCERT_CONTEXT root = simple->rgpElement[simple->cElement - 1]->pCertContext;
      PCCERT_CONTEXT found = CertFindCertificateInStore(private_roots, X509_ASN_ENCODING, 0,
                                                        CERT_FIND_EXISTING, root, nullptr);
      if (found != nullptr) {
        CertFreeCertificateContext(found);
        ok = sslPolicyHolds(chain, host, kIgnoreUnknownCa);
      }
    }
  }
  CertFreeCertificateChain(chain);
  return ok;
}

}  // namespace tenure::win
