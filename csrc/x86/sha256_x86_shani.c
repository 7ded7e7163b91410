/* SHA-256 with the SHA extensions (sha256rnds2 / sha256msg1 / sha256msg2).
 *
 * sha256rnds2 has a latency of several cycles but can issue more often than that, so one message's rounds
 * leave the unit idle. alt_sha256_many_shani hashes up to four equal-length messages side by side, round by
 * round, so each waits on its own rounds while the others' run (four beat two by about a fifth on AMD Zen 3;
 * more spill the 16 XMM registers). When the messages are a whole number of 64-byte blocks long, their final
 * block is padding only and the same for all of them; its message schedule is computed once. */
#include <immintrin.h>
#include <string.h>

#include "compiler.h"
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

#define MAX_LANES 4

/* Runs n independent messages' blocks (n a constant where inlined), so their dependency chains overlap. */
ALT_ALWAYS_INLINE void compress_lanes(lane *s, const uint8_t *const *blocks, size_t nblocks, int n)
{
    for (size_t b = 0; b < nblocks; b++) {
        lane saved[MAX_LANES];
        __m128i w[MAX_LANES][4];
        for (int j = 0; j < n; j++)
            saved[j] = s[j];
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) {
            __m128i k = k4(i);
#pragma GCC unroll 4
            for (int j = 0; j < n; j++) {
                __m128i *wj = w[j];
                wj[i & 3] = i < 4 ? load_w4(blocks[j] + b * ALT_SHA256_BLOCK_SIZE, i)
                                  : next_w4(wj[i & 3], wj[(i + 1) & 3], wj[(i + 2) & 3], wj[(i + 3) & 3]);
                rounds4(&s[j], _mm_add_epi32(wj[i & 3], k));
            }
        }
        for (int j = 0; j < n; j++)
            lane_add(&s[j], saved[j]);
    }
}

/* One block whose schedule (W + K, 16 groups of four) is known in advance, for n messages. */
ALT_ALWAYS_INLINE void compress_lanes_scheduled(lane *s, const __m128i wk[16], int n)
{
    lane saved[MAX_LANES];
    for (int j = 0; j < n; j++)
        saved[j] = s[j];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++)
#pragma GCC unroll 4
        for (int j = 0; j < n; j++)
            rounds4(&s[j], wk[i]);
    for (int j = 0; j < n; j++)
        lane_add(&s[j], saved[j]);
}

void alt_sha256_compress_shani(uint32_t state[8], const uint8_t *blocks, size_t nblocks)
{
    lane s = lane_from_state(state);
    compress_lanes(&s, &blocks, nblocks, 1);
    lane_to_state(s, state);
}

static void schedule_block(const uint8_t block[64], __m128i wk[16])
{
    __m128i w[4];
    for (int i = 0; i < 16; i++) {
        w[i & 3] = i < 4 ? load_w4(block, i) : next_w4(w[i & 3], w[(i + 1) & 3], w[(i + 2) & 3], w[(i + 3) & 3]);
        wk[i] = _mm_add_epi32(w[i & 3], k4(i));
    }
}

/* What every message of one alt_sha256_many_shani call shares. */
typedef struct batch {
    size_t msg_len;
    size_t full_blocks;
    size_t tail_len;
    /* When tail_len is 0: the final, padding-only block's W + K. Otherwise, per lane, the padded final
     * block(s), of which only the first tail_len bytes change from message to message. */
    __m128i padding_wk[16];
    uint8_t tail_blocks[MAX_LANES][128];
    size_t n_tail_blocks;
} batch;

/* Hashes the n consecutive messages at msgs. */
ALT_ALWAYS_INLINE void hash_lanes(batch *bt, const uint8_t *msgs, uint8_t *out, int n)
{
    lane s[MAX_LANES];
    const uint8_t *p[MAX_LANES];
    for (int j = 0; j < n; j++) {
        s[j] = lane_from_state(alt_sha256_h0);
        p[j] = msgs + j * bt->msg_len;
    }
    compress_lanes(s, p, bt->full_blocks, n);
    if (bt->tail_len) {
        for (int j = 0; j < n; j++) {
            memcpy(bt->tail_blocks[j], p[j] + bt->full_blocks * ALT_SHA256_BLOCK_SIZE, bt->tail_len);
            p[j] = bt->tail_blocks[j];
        }
        compress_lanes(s, p, bt->n_tail_blocks, n);
    } else {
        compress_lanes_scheduled(s, bt->padding_wk, n);
    }
    for (int j = 0; j < n; j++)
        lane_to_digest(s[j], out + j * ALT_SHA256_DIGEST_SIZE);
}

void alt_sha256_many_shani(const uint8_t *data, size_t msg_len, size_t count, uint8_t *out)
{
    static const uint8_t zeros[ALT_SHA256_BLOCK_SIZE];
    batch bt;
    bt.msg_len = msg_len;
    bt.full_blocks = msg_len / ALT_SHA256_BLOCK_SIZE;
    bt.tail_len = msg_len % ALT_SHA256_BLOCK_SIZE;
    if (bt.tail_len) {
        for (int j = 0; j < MAX_LANES; j++)
            bt.n_tail_blocks = alt_sha256_pad_tail(zeros, bt.tail_len, msg_len, bt.tail_blocks[j]);
    } else {
        uint8_t pad[128];
        alt_sha256_pad_tail(NULL, 0, msg_len, pad);
        schedule_block(pad, bt.padding_wk);
    }
    size_t i = 0;
    for (; i + 4 <= count; i += 4)
        hash_lanes(&bt, data + i * msg_len, out + i * ALT_SHA256_DIGEST_SIZE, 4);
    if (i + 2 <= count) {
        hash_lanes(&bt, data + i * msg_len, out + i * ALT_SHA256_DIGEST_SIZE, 2);
        i += 2;
    }
    if (i < count)
        hash_lanes(&bt, data + i * msg_len, out + i * ALT_SHA256_DIGEST_SIZE, 1);
}
