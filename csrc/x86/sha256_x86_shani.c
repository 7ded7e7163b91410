/* SHA-256 with the SHA extensions (sha256rnds2 / sha256msg1 / sha256msg2).
 *
 * sha256rnds2 has a latency of several cycles but can issue more often than that, so one message's rounds
 * leave the unit idle. alt_sha256_many_shani hashes two equal-length messages side by side, so each waits
 * on its own rounds while the other's run. When the messages are a whole number of 64-byte blocks long,
 * their final block is padding only and the same for all of them; its message schedule is computed once. */
#include <immintrin.h>
#include <string.h>

#include "sha256.h"
#include "sha256_kernels.h"

/* The state as the instructions want it: (A, B, E, F) and (C, D, G, H), most significant lane first. */
typedef struct lane {
    __m128i abef;
    __m128i cdgh;
} lane;

/* Byte order within each 32-bit word is big-endian in SHA-256 and little-endian in the lanes. */
static inline __m128i bswap32x4(__m128i v)
{
    return _mm_shuffle_epi8(v, _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL));
}

static inline lane lane_from_state(const uint32_t state[8])
{
    __m128i cdab = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)state), 0xB1);
    __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(state + 4)), 0x1B);
    lane s = {_mm_alignr_epi8(cdab, hgfe, 8), _mm_blend_epi16(hgfe, cdab, 0xF0)};
    return s;
}

/* Returns A..D and E..H in natural lane order. */
static inline void lane_to_words(lane s, __m128i *abcd, __m128i *efgh)
{
    __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
    *abcd = _mm_blend_epi16(feba, dchg, 0xF0);
    *efgh = _mm_alignr_epi8(dchg, feba, 8);
}

static inline void lane_to_state(lane s, uint32_t state[8])
{
    __m128i abcd, efgh;
    lane_to_words(s, &abcd, &efgh);
    _mm_storeu_si128((__m128i *)state, abcd);
    _mm_storeu_si128((__m128i *)(state + 4), efgh);
}

static inline void lane_to_digest(lane s, uint8_t *out)
{
    __m128i abcd, efgh;
    lane_to_words(s, &abcd, &efgh);
    _mm_storeu_si128((__m128i *)out, bswap32x4(abcd));
    _mm_storeu_si128((__m128i *)(out + 16), bswap32x4(efgh));
}

static inline __m128i k4(int group) { return _mm_loadu_si128((const __m128i *)(alt_sha256_k + 4 * group)); }

static inline __m128i load_w4(const uint8_t *block, int group)
{
    return bswap32x4(_mm_loadu_si128((const __m128i *)(block + 16 * group)));
}

/* W[4i..4i+3] from the four previous groups, oldest first. */
static inline __m128i next_w4(__m128i w_4, __m128i w_3, __m128i w_2, __m128i w_1)
{
    __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w_4, w_3), _mm_alignr_epi8(w_1, w_2, 4));
    return _mm_sha256msg2_epu32(t, w_1);
}

/* Four rounds with W + K already added. */
static inline void rounds4(lane *s, __m128i wk)
{
    s->cdgh = _mm_sha256rnds2_epu32(s->cdgh, s->abef, wk);
    s->abef = _mm_sha256rnds2_epu32(s->abef, s->cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

static inline void lane_add(lane *s, lane saved)
{
    s->abef = _mm_add_epi32(s->abef, saved.abef);
    s->cdgh = _mm_add_epi32(s->cdgh, saved.cdgh);
}

void alt_sha256_compress_shani(uint32_t state[8], const uint8_t *blocks, size_t nblocks)
{
    lane s = lane_from_state(state);
    for (; nblocks; nblocks--, blocks += ALT_SHA256_BLOCK_SIZE) {
        lane saved = s;
        __m128i w[4];
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) {
            w[i & 3] = i < 4 ? load_w4(blocks, i) : next_w4(w[i & 3], w[(i + 1) & 3], w[(i + 2) & 3], w[(i + 3) & 3]);
            rounds4(&s, _mm_add_epi32(w[i & 3], k4(i)));
        }
        lane_add(&s, saved);
    }
    lane_to_state(s, state);
}

/* Two messages' blocks, round by round, so their dependency chains overlap. */
static inline void compress_pair(lane *a, lane *b, const uint8_t *pa, const uint8_t *pb, size_t nblocks)
{
    for (; nblocks; nblocks--, pa += ALT_SHA256_BLOCK_SIZE, pb += ALT_SHA256_BLOCK_SIZE) {
        lane saved_a = *a, saved_b = *b;
        __m128i wa[4], wb[4];
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) {
            if (i < 4) {
                wa[i] = load_w4(pa, i);
                wb[i] = load_w4(pb, i);
            } else {
                wa[i & 3] = next_w4(wa[i & 3], wa[(i + 1) & 3], wa[(i + 2) & 3], wa[(i + 3) & 3]);
                wb[i & 3] = next_w4(wb[i & 3], wb[(i + 1) & 3], wb[(i + 2) & 3], wb[(i + 3) & 3]);
            }
            __m128i k = k4(i);
            rounds4(a, _mm_add_epi32(wa[i & 3], k));
            rounds4(b, _mm_add_epi32(wb[i & 3], k));
        }
        lane_add(a, saved_a);
        lane_add(b, saved_b);
    }
}

/* One block whose schedule (W + K, 16 groups of four) is known in advance. */
static inline void compress_pair_scheduled(lane *a, lane *b, const __m128i wk[16])
{
    lane saved_a = *a, saved_b = *b;
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
        rounds4(a, wk[i]);
        rounds4(b, wk[i]);
    }
    lane_add(a, saved_a);
    lane_add(b, saved_b);
}

static void schedule_block(const uint8_t block[64], __m128i wk[16])
{
    __m128i w[4];
    for (int i = 0; i < 16; i++) {
        w[i & 3] = i < 4 ? load_w4(block, i) : next_w4(w[i & 3], w[(i + 1) & 3], w[(i + 2) & 3], w[(i + 3) & 3]);
        wk[i] = _mm_add_epi32(w[i & 3], k4(i));
    }
}

static void oneshot(const uint8_t *msg, size_t len, uint8_t *out)
{
    uint32_t state[8];
    uint8_t pad[128];
    memcpy(state, alt_sha256_h0, sizeof state);
    size_t full = len / ALT_SHA256_BLOCK_SIZE;
    alt_sha256_compress_shani(state, msg, full);
    size_t nblocks = alt_sha256_pad_tail(msg + full * ALT_SHA256_BLOCK_SIZE, len % ALT_SHA256_BLOCK_SIZE, len, pad);
    alt_sha256_compress_shani(state, pad, nblocks);
    lane_to_digest(lane_from_state(state), out);
}

void alt_sha256_many_shani(const uint8_t *data, size_t msg_len, size_t count, uint8_t *out)
{
    const lane initial = lane_from_state(alt_sha256_h0);
    const size_t full = msg_len / ALT_SHA256_BLOCK_SIZE;
    const size_t tail = msg_len % ALT_SHA256_BLOCK_SIZE;
    __m128i padding_wk[16];
    if (!tail) {
        uint8_t pad[128];
        alt_sha256_pad_tail(NULL, 0, msg_len, pad);
        schedule_block(pad, padding_wk);
    }
    size_t i = 0;
    for (; i + 2 <= count; i += 2) {
        const uint8_t *pa = data + i * msg_len, *pb = pa + msg_len;
        lane a = initial, b = initial;
        compress_pair(&a, &b, pa, pb, full);
        if (tail) {
            uint8_t pad_a[128], pad_b[128];
            size_t nblocks = alt_sha256_pad_tail(pa + full * ALT_SHA256_BLOCK_SIZE, tail, msg_len, pad_a);
            alt_sha256_pad_tail(pb + full * ALT_SHA256_BLOCK_SIZE, tail, msg_len, pad_b);
            compress_pair(&a, &b, pad_a, pad_b, nblocks);
        } else {
            compress_pair_scheduled(&a, &b, padding_wk);
        }
        lane_to_digest(a, out + i * ALT_SHA256_DIGEST_SIZE);
        lane_to_digest(b, out + (i + 1) * ALT_SHA256_DIGEST_SIZE);
    }
    if (i < count)
        oneshot(data + i * msg_len, msg_len, out + i * ALT_SHA256_DIGEST_SIZE);
}
