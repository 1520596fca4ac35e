/*
 * bcryptprimitives.dll for Wine 8.0, which lacks ProcessPrng: the Go runtime
 * (1.24 and newer) draws its randomness from it and cannot start without it.
 * Windows 10 and newer ship the real one; this is only copied into the test
 * Wine prefix by .ci/wine-session. Built by `make test-windows`.
 */
#include <windows.h>
#include <bcrypt.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
