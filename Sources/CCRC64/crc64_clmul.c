// CRC-64/Jones (reflected) by carry-less multiplication: fold 4 x 128 bits, then Barrett.
//
// Notation. Message bits are polynomial coefficients over GF(2); the first bit of the stream
// (bit 0 of byte 0) has the highest degree. With init 0 and no final xor the CRC of a message
// M of n bits is M(x) * x^64 mod P. In the reflected registers used here bit i of a 64-bit
// value holds x^(63-i), and bit k of a 128-bit XMM register holds x^(127-k); 16 bytes loaded
// little-endian into an XMM register are therefore a 128-bit block in that order, low qword
// = first 8 bytes = the block's high half (H), high qword = the low half (L):
//
//       XMM bit 0 ........ 63 | 64 ....... 127
//       x^127 ........... x^64 | x^63 ........ x^0
//       H (bytes 0-7)          | L (bytes 8-15)
//
// PCLMULQDQ of two reflected 64-bit values a (A) and b (B) gives bit k = XOR of a_i b_j over
// i + j = k, which is the coefficient of x^(126-k) of A*B: read as a 128-bit register, the
// product A*B*x. Every constant is stored divided by one x to cancel that factor.
//
// Folding. A block X = H*x^64 + L that sits T bits before block Y contributes X*x^T to the
// CRC, and X*x^T = H*x^(T+64) + L*x^T == H*(x^(T+63) mod P)*x + L*(x^(T-1) mod P)*x (mod P):
// two carry-less products whose XOR is at most 128 bits, XORed into Y. The main loop keeps
// four blocks (64 bytes) in flight, each folded 512 bits ahead; then blocks 0, 1, 2 fold 384,
// 256, 128 bits onto block 3; then single blocks fold 128 bits at a time.
//
// Final reduction. What is left is one block X whose CRC state is X*x^64 mod P:
//   1. R = H*x^128 + L*x^64 == clmul(H, x^127 mod P) + L*x^64: L moves to the high half.
//   2. R (degree < 128) = R_H*x^64 + R_L. Barrett: with mu = floor(x^128 / P), the quotient
//      q = floor(R / P) = floor(R_H * mu / x^64) exactly (no correction over GF(2)). mu has
//      degree 64; write mu = (mu/x)*x + mu_0: clmul(R_H, mu/x) is R_H*(mu - mu_0), and the
//      missing R_H*mu_0 has degree < 64, so the high 64 bits of the product -- the low qword
//      of the register -- are exactly q.
//   3. R mod P = R + q*P, of which only the low 64 coefficients are non-zero. P = (P/x)*x + 1
//      (P has a constant term), so q*P = clmul(q, P/x) + q: the remainder is
//      R_L ^ (high qword of clmul(q, P/x)) ^ q.
// The constants are in CCRC64.h; CRC64Tests recomputes them from the polynomial.

#include "CCRC64.h"

#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>

int cairn_crc64_clmul_supported(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_PCLMUL) != 0 && (ecx & bit_SSE4_1) != 0;
}

#define CLMUL_TARGET __attribute__((target("pclmul,sse4.1")))

// A fold constant pair: low qword multiplies the block's first 8 bytes, high qword the last 8.
CLMUL_TARGET static inline __m128i fold_constants(uint64_t high_half, uint64_t low_half) {
    return _mm_set_epi64x((long long)low_half, (long long)high_half);
}

// X*x^T for the distance T encoded in k (see above), at most 128 bits.
CLMUL_TARGET static inline __m128i fold(__m128i x, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}

CLMUL_TARGET static inline __m128i load_block(const unsigned char *p) {
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

CLMUL_TARGET uint64_t cairn_crc64_clmul(uint64_t crc, const void *bytes, size_t length) {
    const unsigned char *data = bytes;
    if (length < 64 || length % 16 != 0) return crc;

    const __m128i k512 = fold_constants(CAIRN_CRC64_X575_MOD_P, CAIRN_CRC64_X511_MOD_P);
    const __m128i k384 = fold_constants(CAIRN_CRC64_X447_MOD_P, CAIRN_CRC64_X383_MOD_P);
    const __m128i k256 = fold_constants(CAIRN_CRC64_X319_MOD_P, CAIRN_CRC64_X255_MOD_P);
    const __m128i k128 = fold_constants(CAIRN_CRC64_X191_MOD_P, CAIRN_CRC64_X127_MOD_P);
    const __m128i barrett = fold_constants(CAIRN_CRC64_BARRETT_MU_DIV_X, CAIRN_CRC64_BARRETT_P_DIV_X);

    // The running CRC goes into the first 8 bytes, as the table-driven update does.
    __m128i a0 = _mm_xor_si128(load_block(data), _mm_cvtsi64_si128((long long)crc));
    __m128i a1 = load_block(data + 16);
    __m128i a2 = load_block(data + 32);
    __m128i a3 = load_block(data + 48);
    const unsigned char *p = data + 64;
    size_t n = length - 64;

    while (n >= 64) {
        a0 = _mm_xor_si128(fold(a0, k512), load_block(p));
        a1 = _mm_xor_si128(fold(a1, k512), load_block(p + 16));
        a2 = _mm_xor_si128(fold(a2, k512), load_block(p + 32));
        a3 = _mm_xor_si128(fold(a3, k512), load_block(p + 48));
        p += 64;
        n -= 64;
    }

    __m128i x = _mm_xor_si128(_mm_xor_si128(fold(a0, k384), fold(a1, k256)),
                              _mm_xor_si128(fold(a2, k128), a3));
    while (n >= 16) {
        x = _mm_xor_si128(fold(x, k128), load_block(p));
        p += 16;
        n -= 16;
    }

    // Step 1: H * (x^127 mod P) * x, plus L moved up by 64 bits.
    __m128i r = _mm_xor_si128(_mm_clmulepi64_si128(x, k128, 0x10), _mm_srli_si128(x, 8));
    // Step 2: q in the low qword of t.
    __m128i t = _mm_clmulepi64_si128(r, barrett, 0x00);
    // Step 3: R_L ^ high(q * P/x) ^ q.
    __m128i u = _mm_clmulepi64_si128(t, barrett, 0x10);
    return (uint64_t)_mm_extract_epi64(r, 1) ^ (uint64_t)_mm_extract_epi64(u, 1)
        ^ (uint64_t)_mm_cvtsi128_si64(t);
}

#else

int cairn_crc64_clmul_supported(void) { return 0; }

uint64_t cairn_crc64_clmul(uint64_t crc, const void *data, size_t length) {
    // No kernel on this architecture; callers check cairn_crc64_clmul_supported() first.
    (void)data;
    (void)length;
    __builtin_trap();
    return crc;
}

#endif
