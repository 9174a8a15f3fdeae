// CCRC64: the carry-less multiply kernel behind CairnFormats' CRC64 (Checksum/CRC64.swift).
//
// The CRC is Redis's CRC-64/Jones (reflected polynomial 0x95AC9329AC4BC9B5, init 0, no final
// xor). The scheme, the register conventions and how each constant below was derived are in
// crc64_clmul.c; Tests/CairnFormatsTests/CRC64Tests.swift recomputes every constant from the
// polynomial and compares.
//
// Constants are 64-bit *reflected* polynomials: bit i holds the coefficient of x^(63-i), as in
// the CRC register itself. P is the degree-64 Jones polynomial.

#ifndef CAIRN_CCRC64_H
#define CAIRN_CCRC64_H

#include <stddef.h>
#include <stdint.h>

// Folding by T bits multiplies a 128-bit block by x^T: its first 8 bytes by x^(T+63) mod P, its
// last 8 by x^(T-1) mod P (one less than the distance: a reflected carry-less product comes out
// multiplied by x).
#define CAIRN_CRC64_X575_MOD_P 0xAF86EFB16D9AB4FBULL  // T = 512: 4 blocks ahead, main loop
#define CAIRN_CRC64_X511_MOD_P 0xF49784A634F014E4ULL
#define CAIRN_CRC64_X447_MOD_P 0xA062B2319D66692FULL  // T = 384: block 0 onto block 3
#define CAIRN_CRC64_X383_MOD_P 0x7B3211A760160DB8ULL
#define CAIRN_CRC64_X319_MOD_P 0x6BA4D760AB38201EULL  // T = 256: block 1 onto block 3
#define CAIRN_CRC64_X255_MOD_P 0xEF3D1D18ED889ED2ULL
#define CAIRN_CRC64_X191_MOD_P 0xD9D7BE7D505DA32CULL  // T = 128: one block ahead
#define CAIRN_CRC64_X127_MOD_P 0x381D0015C96F4444ULL  //   (also the final x^128 step)

// Barrett reduction of a 128-bit remainder: mu = floor(x^128 / P) (degree 64) and P itself,
// each stored divided by x (floor(mu / x), floor(P / x): degree 63, so they fit 64 bits).
#define CAIRN_CRC64_BARRETT_MU_DIV_X 0x3E6CFA329AEF9F77ULL
#define CAIRN_CRC64_BARRETT_P_DIV_X 0x2B5926535897936BULL

/// 1 when this CPU has PCLMULQDQ and SSE4.1 (CPUID leaf 1), else 0; always 0 off x86-64.
/// Executes CPUID (slow under a hypervisor): call it once and keep the answer.
int cairn_crc64_clmul_supported(void);

/// Continues the running CRC `crc` over `length` bytes at `data` and returns it. `length` must
/// be a multiple of 16 and at least 64; any other length processes nothing and returns `crc`.
/// Only call it when cairn_crc64_clmul_supported() returned 1.
uint64_t cairn_crc64_clmul(uint64_t crc, const void *data, size_t length);

#endif
