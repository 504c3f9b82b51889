/* Test helper for the Wine smoke test: adds the PEM certificate(s) in argv[1] to the local
 * machine's ROOT store (what an administrator does with certlm.msc / certutil -addstore Root).
 * Built by tests/windows/smoke.sh with the mingw compiler; not shipped. */
#include <windows.h>
#include <wincrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  if (argc != 2) { fprintf(stderr, "usage: add_root_cert FILE.pem\n"); return 2; }
  FILE* f = fopen(argv[1], "rb");
  if (!f) { fprintf(stderr, "cannot open %s\n", argv[1]); return 1; }
  static char pem[1 << 20];
  size_t n = fread(pem, 1, sizeof pem - 1, f);
  fclose(f);
  pem[n] = 0;
  HCERTSTORE store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                                   CERT_SYSTEM_STORE_LOCAL_MACHINE, L"ROOT");
  if (!store) { fprintf(stderr, "CertOpenStore: %lu\n", GetLastError()); return 1; }
  int added = 0;
  const char* p = pem;
  const char* begin_marker = "-----BEGIN CERTIFICATE-----";
  const char* end_marker = "-----END CERTIFICATE-----";
  while ((p = strstr(p, begin_marker)) != NULL) {
    const char* e = strstr(p, end_marker);
    if (!e) break;
    e += strlen(end_marker);
    DWORD der_len = 0;
    if (!CryptStringToBinaryA(p, (DWORD)(e - p), CRYPT_STRING_BASE64HEADER, NULL, &der_len, NULL, NULL)) {
      fprintf(stderr, "CryptStringToBinaryA: %lu\n", GetLastError()); return 1;
    }
    BYTE* der = malloc(der_len);
    CryptStringToBinaryA(p, (DWORD)(e - p), CRYPT_STRING_BASE64HEADER, der, &der_len, NULL, NULL);
    if (!CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der, der_len,
                                          CERT_STORE_ADD_REPLACE_EXISTING, NULL)) {
      fprintf(stderr, "CertAddEncodedCertificateToStore: %lu\n", GetLastError()); return 1;
    }
    free(der);
    ++added;
    p = e;
  }
  CertCloseStore(store, 0);
  if (added == 0) { fprintf(stderr, "no certificate in %s\n", argv[1]); return 1; }
  printf("added %d certificate(s) to LocalMachine\\ROOT\n", added);
  return 0;
}
