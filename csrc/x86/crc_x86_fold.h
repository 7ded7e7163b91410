/* Carry-less folding of the CRC family on 128-bit lanes, shared by the PCLMULQDQ and VPCLMULQDQ tiers (each
 * includes it and compiles it with its own flags). Every function takes `msb` as a compile-time constant:
 * MSB-first CRCs byte-swap each 16-byte chunk so that bit 127 is x^127; reflected CRCs load chunks as they
 * are, bit i being x^(127-i). The constants in alt_crc_impl are laid out so folding is the same code in both
 * orders; only the loads and the final reduction differ. See derive_fold_constants() in crc.c. */
#ifndef ALT_CRC_X86_FOLD_H
#define ALT_CRC_X86_FOLD_H

#include <immintrin.h>
#include <stdbool.h>

#include "compiler.h"
#include "crc.h"

ALT_ALWAYS_INLINE __m128i crc_const128(const uint64_t k[2]) { return _mm_loadu_si128((const __m128i *)k); }

ALT_ALWAYS_INLINE __m128i crc_bswap128(__m128i v)
{
    return _mm_shuffle_epi8(v, _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
}

ALT_ALWAYS_INLINE __m128i crc_load128(const uint8_t *p, bool msb)
{
    __m128i v = _mm_loadu_si128((const __m128i *)p);
    return msb ? crc_bswap128(v) : v;
}

/* The shift register as a chunk to xor over the first 32 message bits. */
ALT_ALWAYS_INLINE __m128i crc_register128(uint32_t reg, bool msb)
{
    __m128i v = _mm_cvtsi32_si128((int)reg);
    return msb ? _mm_slli_si128(v, 12) : v;
}

/* acc * x^(128 j) reduced to 96 bits, k = impl->fold[j]. */
ALT_ALWAYS_INLINE __m128i crc_fold128(__m128i acc, __m128i k)
{
    return _mm_xor_si128(_mm_clmulepi64_si128(acc, k, 0x00), _mm_clmulepi64_si128(acc, k, 0x11));
}

/* The shift register after a message congruent to a (mod G): a * x^32 mod G. 128 -> 96 bits (high half
 * times x^96), 96 -> 64 bits (top 32 bits times x^64), then Barrett with mu = floor(x^64 / G):
 * q = floor(floor(U / x^32) * mu / x^32), remainder = U - q * G. Reflected, the same steps mirrored; the
 * 33-bit reflected mu and G absorb the clmul's extra factor x. */
ALT_ALWAYS_INLINE uint32_t crc_reduce128(const alt_crc_impl *impl, __m128i a, bool msb)
{
    const __m128i kf = crc_const128(impl->reduce), kb = crc_const128(impl->barrett);
    const __m128i low32 = _mm_set_epi32(0, -1, 0, -1);
    if (msb) {
        __m128i t = _mm_xor_si128(_mm_clmulepi64_si128(a, kf, 0x11), _mm_slli_si128(_mm_move_epi64(a), 4));
        __m128i u = _mm_xor_si128(_mm_clmulepi64_si128(t, kf, 0x01), t);
        __m128i q = _mm_srli_epi64(_mm_clmulepi64_si128(_mm_srli_epi64(u, 32), kb, 0x00), 32);
        return (uint32_t)_mm_cvtsi128_si32(_mm_xor_si128(u, _mm_clmulepi64_si128(q, kb, 0x10)));
    }
    __m128i high = _mm_unpackhi_epi64(_mm_setzero_si128(), a);
    __m128i t = _mm_xor_si128(_mm_clmulepi64_si128(a, kf, 0x00), _mm_srli_si128(high, 4));
    __m128i u = _mm_xor_si128(_mm_clmulepi64_si128(t, kf, 0x10), t);
    __m128i q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(u, low32), kb, 0x01), low32);
    __m128i r = _mm_xor_si128(_mm_clmulepi64_si128(q, kb, 0x10), _mm_srli_si128(u, 8));
    return (uint32_t)_mm_extract_epi32(r, 1);
}

/* Register update over n bytes: eight chunks in flight, then one, then the sub-chunk tail by table. */
ALT_ALWAYS_INLINE uint32_t crc_update128(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t n,
                                      bool msb)
{
    if (n < 16)
        return alt_crc_table_update(impl, reg, p, n);
    __m128i x;
    if (n >= 128) {
        __m128i a[8];
        for (int i = 0; i < 8; i++)
            a[i] = crc_load128(p + 16 * i, msb);
        a[0] = _mm_xor_si128(a[0], crc_register128(reg, msb));
        p += 128, n -= 128;
        const __m128i k8 = crc_const128(impl->fold[8]);
        for (; n >= 128; p += 128, n -= 128)
            for (int i = 0; i < 8; i++)
                a[i] = _mm_xor_si128(crc_fold128(a[i], k8), crc_load128(p + 16 * i, msb));
        x = a[7];
        for (int i = 0; i < 7; i++)
            x = _mm_xor_si128(x, crc_fold128(a[i], crc_const128(impl->fold[7 - i])));
    } else {
        x = _mm_xor_si128(crc_load128(p, msb), crc_register128(reg, msb));
        p += 16, n -= 16;
    }
    const __m128i k1 = crc_const128(impl->fold[1]);
    for (; n >= 16; p += 16, n -= 16)
        x = _mm_xor_si128(crc_fold128(x, k1), crc_load128(p, msb));
    return alt_crc_table_update(impl, crc_reduce128(impl, x, msb), p, n);
}

/* Geometry shared by the batch kernels: a block of block_size bytes is read as `chunks` whole 16-byte
 * chunks starting `lead` bytes before it, the lead bytes masked to zero. Leading zeros leave a CRC from a
 * zero register unchanged, and the starting register's part, reg * x^(8 block_size) mod G, is the same for
 * every block: crc(reg, M) = crc(0, M) ^ crc(reg, zeros). */
typedef struct crc_block_shape {
    size_t chunks, lead;
    uint32_t start;        /* the starting register's contribution */
    __m128i lead_mask;     /* applied to the first chunk as loaded (memory order) */
} crc_block_shape;

static inline crc_block_shape crc_block_shape_of(const alt_crc_impl *impl, uint32_t reg, size_t block_size)
{
    static const uint8_t keep_from[32] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                          0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                          0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    crc_block_shape s;
    s.chunks = (block_size + 15) / 16;
    s.lead = 16 * s.chunks - block_size;
    s.start = alt_crc_zeros(impl, reg, block_size);
    s.lead_mask = _mm_loadu_si128((const __m128i *)(keep_from + 16 - s.lead));
    return s;
}

/* crc(0, block) for one block, its chunks folded as a tree (independent multiplies, short latency). */
ALT_ALWAYS_INLINE uint32_t crc_block128(const alt_crc_impl *impl, const crc_block_shape *s, const uint8_t *block,
                                     bool msb)
{
    const uint8_t *q = block - s->lead;
    __m128i first = _mm_and_si128(_mm_loadu_si128((const __m128i *)q), s->lead_mask);
    if (msb)
        first = crc_bswap128(first);
    const size_t last = s->chunks - 1;
    __m128i x = last ? crc_fold128(first, crc_const128(impl->fold[last])) : first;
    for (size_t j = 1; j < last; j++)
        x = _mm_xor_si128(x, crc_fold128(crc_load128(q + 16 * j, msb), crc_const128(impl->fold[last - j])));
    if (last)
        x = _mm_xor_si128(x, crc_load128(q + 16 * last, msb));
    return crc_reduce128(impl, x, msb);
}

ALT_ALWAYS_INLINE void crc_blocks128(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t block_size,
                                  size_t n_blocks, void *out, size_t first, bool msb)
{
    const crc_block_shape s = crc_block_shape_of(impl, reg, block_size);
    for (size_t i = 0; i < n_blocks; i++, p += block_size)
        alt_crc_store(impl, out, first + i, crc_block128(impl, &s, p, msb) ^ s.start);
}

#endif
