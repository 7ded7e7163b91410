/* The CRC family on VPCLMULQDQ with AVX2: the 128-bit folding of crc_x86_fold.h run on both lanes of 256-bit
 * registers, eight of them in flight over long buffers, and two batch blocks at a time. */
#include "x86/crc_x86_fold.h"

ALT_ALWAYS_INLINE __m256i crc_const256(const uint64_t k[2]) { return _mm256_broadcastsi128_si256(crc_const128(k)); }

ALT_ALWAYS_INLINE __m256i crc_bswap256(__m256i v)
{
    const __m256i rev = _mm256_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
                                         15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    return _mm256_shuffle_epi8(v, rev);
}

ALT_ALWAYS_INLINE __m256i crc_load256(const uint8_t *p, bool msb)
{
    __m256i v = _mm256_loadu_si256((const __m256i *)p);
    return msb ? crc_bswap256(v) : v;
}

/* Lane 0 from lo, lane 1 from hi. */
ALT_ALWAYS_INLINE __m256i crc_load2x128(const uint8_t *lo, const uint8_t *hi)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)lo)),
                                   _mm_loadu_si128((const __m128i *)hi), 1);
}

ALT_ALWAYS_INLINE __m256i crc_fold256(__m256i acc, __m256i k)
{
    return _mm256_xor_si256(_mm256_clmulepi64_epi128(acc, k, 0x00), _mm256_clmulepi64_epi128(acc, k, 0x11));
}

/* crc_reduce128 on both lanes at once; the two registers go to r[0] (lane 0) and r[1] (lane 1). */
ALT_ALWAYS_INLINE void crc_reduce256(const alt_crc_impl *impl, __m256i a, bool msb, uint32_t r[2])
{
    const __m256i kf = crc_const256(impl->reduce), kb = crc_const256(impl->barrett);
    const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFF);
    if (msb) {
        const __m256i low64 = _mm256_set_epi64x(0, -1, 0, -1);
        __m256i t = _mm256_xor_si256(_mm256_clmulepi64_epi128(a, kf, 0x11),
                                     _mm256_slli_si256(_mm256_and_si256(a, low64), 4));
        __m256i u = _mm256_xor_si256(_mm256_clmulepi64_epi128(t, kf, 0x01), t);
        __m256i q = _mm256_srli_epi64(_mm256_clmulepi64_epi128(_mm256_srli_epi64(u, 32), kb, 0x00), 32);
        __m256i v = _mm256_xor_si256(u, _mm256_clmulepi64_epi128(q, kb, 0x10));
        r[0] = (uint32_t)_mm256_extract_epi32(v, 0);
        r[1] = (uint32_t)_mm256_extract_epi32(v, 4);
        return;
    }
    __m256i high = _mm256_unpackhi_epi64(_mm256_setzero_si256(), a);
    __m256i t = _mm256_xor_si256(_mm256_clmulepi64_epi128(a, kf, 0x00), _mm256_srli_si256(high, 4));
    __m256i u = _mm256_xor_si256(_mm256_clmulepi64_epi128(t, kf, 0x10), t);
    __m256i q = _mm256_and_si256(_mm256_clmulepi64_epi128(_mm256_and_si256(u, low32), kb, 0x01), low32);
    __m256i v = _mm256_xor_si256(_mm256_clmulepi64_epi128(q, kb, 0x10), _mm256_srli_si256(u, 8));
    r[0] = (uint32_t)_mm256_extract_epi32(v, 1);
    r[1] = (uint32_t)_mm256_extract_epi32(v, 5);
}

/* Sixteen chunks (256 bytes) in flight as eight 256-bit accumulators, then the 128-bit code for the rest. */
ALT_ALWAYS_INLINE uint32_t crc_update256(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t n,
                                      bool msb)
{
    if (n < 256)
        return crc_update128(impl, reg, p, n, msb);
    __m256i a[8];
    for (int i = 0; i < 8; i++)
        a[i] = crc_load256(p + 32 * i, msb);
    a[0] = _mm256_xor_si256(a[0], _mm256_castsi128_si256(crc_register128(reg, msb)));
    p += 256, n -= 256;
    const __m256i k16 = crc_const256(impl->fold[16]);
    for (; n >= 256; p += 256, n -= 256)
        for (int i = 0; i < 8; i++)
            a[i] = _mm256_xor_si256(crc_fold256(a[i], k16), crc_load256(p + 32 * i, msb));
    /* accumulator i sits 256 (7 - i) bits before the last; then lane 0 sits 128 bits before lane 1 */
    __m256i s = a[7];
    for (int i = 0; i < 7; i++)
        s = _mm256_xor_si256(s, crc_fold256(a[i], crc_const256(impl->fold[2 * (7 - i)])));
    __m128i x = _mm_xor_si128(crc_fold128(_mm256_castsi256_si128(s), crc_const128(impl->fold[1])),
                              _mm256_extracti128_si256(s, 1));
    const __m128i k1 = crc_const128(impl->fold[1]);
    for (; n >= 16; p += 16, n -= 16)
        x = _mm_xor_si128(crc_fold128(x, k1), crc_load128(p, msb));
    return alt_crc_table_update(impl, crc_reduce128(impl, x, msb), p, n);
}

/* Two blocks at a time, one per lane; see crc_block128 for the shape. */
ALT_ALWAYS_INLINE void crc_blocks256(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t block_size,
                                  size_t n_blocks, void *out, size_t first, bool msb)
{
    const crc_block_shape s = crc_block_shape_of(impl, reg, block_size);
    const __m256i lead_mask = _mm256_broadcastsi128_si256(s.lead_mask);
    const size_t last = s.chunks - 1;
    size_t i = 0;
    for (; i + 2 <= n_blocks; i += 2, p += 2 * block_size) {
        const uint8_t *q = p - s.lead;
        __m256i x = _mm256_and_si256(crc_load2x128(q, q + block_size), lead_mask);
        if (msb)
            x = crc_bswap256(x);
        if (last)
            x = crc_fold256(x, crc_const256(impl->fold[last]));
        for (size_t j = 1; j <= last; j++) {
            __m256i c = crc_load2x128(q + 16 * j, q + block_size + 16 * j);
            if (msb)
                c = crc_bswap256(c);
            x = _mm256_xor_si256(x, j == last ? c : crc_fold256(c, crc_const256(impl->fold[last - j])));
        }
        uint32_t r[2];
        crc_reduce256(impl, x, msb, r);
        alt_crc_store(impl, out, first + i, r[0] ^ s.start);
        alt_crc_store(impl, out, first + i + 1, r[1] ^ s.start);
    }
    if (i < n_blocks)
        alt_crc_store(impl, out, first + i, crc_block128(impl, &s, p, msb) ^ s.start);
}

static uint32_t update(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t n)
{
    return impl->reflected ? crc_update256(impl, reg, p, n, false) : crc_update256(impl, reg, p, n, true);
}

static void blocks(const alt_crc_impl *impl, uint32_t reg, const uint8_t *p, size_t block_size, size_t n_blocks,
                   void *out, size_t first)
{
    if (impl->reflected)
        crc_blocks256(impl, reg, p, block_size, n_blocks, out, first, false);
    else
        crc_blocks256(impl, reg, p, block_size, n_blocks, out, first, true);
}

const alt_crc_kernel alt_crc_kernel_vpclmul = {"vpclmulqdq", update, blocks};
