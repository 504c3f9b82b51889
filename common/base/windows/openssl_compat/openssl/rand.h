#pragma once
// Windows build only: the one OpenSSL function shared agent code uses (RAND_bytes), answered by the
// OS CSPRNG (BCryptGenRandom), so the Windows agent needs no OpenSSL. Same contract: 1 on success.

#include <windows.h>
#include <bcrypt.h>

inline int RAND_bytes(unsigned char* buf, int num) {
  if (num < 0) return 0;
  if (num == 0) return 1;
  return BCRYPT_SUCCESS(BCryptGenRandom(nullptr, buf, static_cast<ULONG>(num),
                                        BCRYPT_USE_SYSTEM_PREFERRED_RNG))
             ? 1
             : 0;
}
