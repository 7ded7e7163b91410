/* The CRC family: six catalogue CRCs (CRC RevEng names) over firmware images and radio frames.
 *
 * Every algorithm here has refin == refout, so a finished CRC ("result") maps back to the shift register
 * with one xor: chaining a CRC across calls just passes the previous result in. The empty message's result
 * is alt_crc_empty(); alt_crc_compute(a, empty, A) then alt_crc_compute(a, that, B) equals the CRC of A||B.
 *
 * Internally every CRC is run as a 32-bit one. A width-16 polynomial P is used as G = P * x^16 (the
 * remainder mod G is the remainder mod P shifted up 16 bits), so the table, folding and Barrett code has
 * one shape for all widths: reflected CRCs keep the register in the low bits (LSB first), the others keep it
 * left-aligned in 32 bits (MSB first).
 */
#ifndef ALT_CRC_H
#define ALT_CRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The catalogue: one line per algorithm, the only place an algorithm is defined (the enum below, the model
 * table in crc.c and the Python names and aliases all come from it). Williams model parameters, refin ==
 * refout == reflected; check is the CRC of ASCII "123456789". Aliases (matched case-insensitively, "_" read
 * as "-") are RevEng's plus the short names people use; a bare suffix only where it is unambiguous.
 *
 * X(enum constant, RevEng name, width, poly, init, reflected, xorout, check, "alias|alias|...") */
#define ALT_CRC_CATALOGUE(X)                                                                                \
    /* IEEE 802.15.4 FCS */                                                                                 \
    X(ALT_CRC16_KERMIT, "CRC-16/KERMIT", 16, 0x1021, 0x0000, true, 0x0000, 0x2189,                          \
      "KERMIT|CRC-16/CCITT|CRC-16/CCITT-TRUE|CRC-16/V-41-LSB|CRC-CCITT")                                    \
    /* wireless M-Bus */                                                                                    \
    X(ALT_CRC16_EN_13757, "CRC-16/EN-13757", 16, 0x3D65, 0x0000, false, 0xFFFF, 0xC2B7, "EN-13757")          \
    /* X-25; ZigBee install codes */                                                                        \
    X(ALT_CRC16_IBM_SDLC, "CRC-16/IBM-SDLC", 16, 0x1021, 0xFFFF, true, 0xFFFF, 0x906E,                      \
      "IBM-SDLC|X-25|X25|CRC-16/X-25|CRC-16/ISO-HDLC|CRC-16/ISO-IEC-14443-3-B|CRC-B")                       \
    X(ALT_CRC16_XMODEM, "CRC-16/XMODEM", 16, 0x1021, 0x0000, false, 0x0000, 0x31C3,                         \
      "XMODEM|ZMODEM|CRC-16/ACORN|CRC-16/LTE|CRC-16/V-41-MSB")                                              \
    /* zlib, Ethernet */                                                                                    \
    X(ALT_CRC32_ISO_HDLC, "CRC-32/ISO-HDLC", 32, 0x04C11DB7, 0xFFFFFFFF, true, 0xFFFFFFFF, 0xCBF43926,      \
      "CRC-32|CRC32|CRC-32/ADCCP|CRC-32/V-42|CRC-32/XZ|PKZIP")                                              \
    /* CRC-32C */                                                                                           \
    X(ALT_CRC32_ISCSI, "CRC-32/ISCSI", 32, 0x1EDC6F41, 0xFFFFFFFF, true, 0xFFFFFFFF, 0xE3069283,            \
      "ISCSI|CRC-32C|CRC32C|CRC-32/BASE91-C|CRC-32/CASTAGNOLI|CRC-32/INTERLAKEN")

#define ALT_CRC_ENUM(id, ...) id,
typedef enum alt_crc_algorithm { ALT_CRC_CATALOGUE(ALT_CRC_ENUM) ALT_CRC_ALGORITHM_COUNT } alt_crc_algorithm;
#undef ALT_CRC_ENUM

/* A catalogue entry (see ALT_CRC_CATALOGUE). */
typedef struct alt_crc_model {
    const char *name;
    unsigned width;
    uint32_t poly;
    uint32_t init;
    bool reflected;
    uint32_t xorout;
    uint32_t check;
    const char *aliases;    /* "|"-separated */
} alt_crc_model;

/* NULL for an algorithm out of range. */
const alt_crc_model *alt_crc_model_get(int algorithm);

/* The CRC of the empty message, the value to start a chain with. */
static inline uint32_t alt_crc_empty(const alt_crc_model *m) { return m->init ^ m->xorout; }

/* *crc: on entry the CRC of whatever came before (alt_crc_empty() for nothing), on return the CRC including
 * data. ALT_EINVAL for an unknown algorithm or a *crc wider than the algorithm. */
int alt_crc_compute(int algorithm, const uint8_t *data, size_t len, uint32_t *crc);

/* One fresh CRC per block_size bytes of data (the last block may be short) into out, which holds
 * out_count elements of width/8 bytes each (uint16_t or uint32_t); out_count must be at least
 * ceil(len / block_size). ALT_EINVAL for an unknown algorithm, block_size 0 or out too small. */
int alt_crc_blocks(int algorithm, const uint8_t *data, size_t len, size_t block_size, void *out,
                   size_t out_count);

/* ---- shared with the tier kernels (csrc/x86/crc_x86_*.c); not part of the public API ---- */

/* Folding distances the kernels may use: fold[j] moves a 128-bit chunk j*128 bits further on. */
#define ALT_CRC_MAX_FOLD_CHUNKS 16

/* Everything derived from one model, built once on first use. Folding constants are 64-bit lane pairs
 * {lo, hi} laid out so that fold(acc) = clmul(acc.lo, k.lo) ^ clmul(acc.hi, k.hi) in both bit orders. */
typedef struct alt_crc_impl {
    const alt_crc_model *model;
    bool reflected;
    unsigned shift;                   /* 32 - width when MSB first (register left-aligned), else 0 */
    uint32_t table[16][256];          /* slice-by-16: table[k][b] = byte b followed by k zero bytes */
    uint64_t fold[ALT_CRC_MAX_FOLD_CHUNKS + 1][2];  /* fold[j], j >= 1 */
    uint64_t reduce[2];               /* 128 -> 96 -> 64 bits */
    uint64_t barrett[2];              /* {mu, G}: 64 -> 32 bits */
} alt_crc_impl;

/* NULL for an algorithm out of range. Thread-safe. */
const alt_crc_impl *alt_crc_impl_get(int algorithm);

/* The portable table-driven register update (slice-by-16), used by every tier for short pieces. */
uint32_t alt_crc_table_update(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t n);

static inline uint32_t alt_crc_to_register(const alt_crc_impl *impl, uint32_t result)
{
    return (result ^ impl->model->xorout) << impl->shift;
}

static inline uint32_t alt_crc_from_register(const alt_crc_impl *impl, uint32_t reg)
{
    return (reg >> impl->shift) ^ impl->model->xorout;
}

static inline void alt_crc_store(const alt_crc_impl *impl, void *out, size_t i, uint32_t reg)
{
    uint32_t v = alt_crc_from_register(impl, reg);
    if (impl->model->width == 16)
        ((uint16_t *)out)[i] = (uint16_t)v;
    else
        ((uint32_t *)out)[i] = v;
}

/* A tier: the register update over any length, and a batch of n_blocks full blocks of block_size bytes
 * (16 <= block_size <= 16 * ALT_CRC_MAX_FOLD_CHUNKS) each starting from register reg, results stored at
 * out[first .. first + n_blocks). The 16 bytes before p must be readable: a block whose length is not a
 * multiple of 16 is read as a zero-padded run of whole chunks (the caller does a buffer's first block with
 * update instead). */
typedef struct alt_crc_kernel {
    const char *name;
    uint32_t (*update)(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t n);
    void (*blocks)(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t block_size,
                   size_t n_blocks, void *out, size_t first);
} alt_crc_kernel;

#if defined(ALT_X86_TIERS)
extern const alt_crc_kernel alt_crc_kernel_pclmul;
extern const alt_crc_kernel alt_crc_kernel_vpclmul;
#endif

/* Contribution of the starting register to a block of len bytes: reg * x^(8 len) mod G, so that
 * crc(reg, M) = crc(0, M) ^ alt_crc_zeros(reg, len(M)). */
uint32_t alt_crc_zeros(const alt_crc_impl *impl, uint32_t reg, size_t len);

#endif
