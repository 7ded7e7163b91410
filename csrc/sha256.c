#include "sha256.h"

#include <string.h>

#include "alt_status.h"
#include "cpu.h"
#include "sha256_kernels.h"
#include "tiers.h"

const uint32_t alt_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

const uint32_t alt_sha256_h0[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* The bit length must fit the 64-bit length field. */
#define ALT_SHA256_MAX_BYTES ((UINT64_C(1) << 61) - 1)

static inline uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

#define BSIG0(x) (rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22))
#define BSIG1(x) (rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25))
#define SSIG0(x) (rotr(x, 7) ^ rotr(x, 18) ^ ((x) >> 3))
#define SSIG1(x) (rotr(x, 17) ^ rotr(x, 19) ^ ((x) >> 10))

/* Round t with schedule word wt. Callers rotate the variable names instead of moving eight values. */
#define ROUND(a, b, c, d, e, f, g, h, t, wt)                                                              \
    do {                                                                                                   \
        uint32_t t1 = h + BSIG1(e) + (g ^ (e & (f ^ g))) + alt_sha256_k[t] + (wt);                         \
        d += t1;                                                                                           \
        h = t1 + BSIG0(a) + ((a & b) | (c & (a | b)));                                                     \
    } while (0)

/* Eight rounds from t on, the schedule word of round t + i given by W(t + i). */
#define ROUNDS8(t, W)                                                                                      \
    do {                                                                                                   \
        ROUND(a, b, c, d, e, f, g, h, (t), W((t)));                                                        \
        ROUND(h, a, b, c, d, e, f, g, (t) + 1, W((t) + 1));                                                \
        ROUND(g, h, a, b, c, d, e, f, (t) + 2, W((t) + 2));                                                \
        ROUND(f, g, h, a, b, c, d, e, (t) + 3, W((t) + 3));                                                \
        ROUND(e, f, g, h, a, b, c, d, (t) + 4, W((t) + 4));                                                \
        ROUND(d, e, f, g, h, a, b, c, (t) + 5, W((t) + 5));                                                \
        ROUND(c, d, e, f, g, h, a, b, (t) + 6, W((t) + 6));                                                \
        ROUND(b, c, d, e, f, g, h, a, (t) + 7, W((t) + 7));                                                \
    } while (0)

/* The end of a block: the working variables a..h are added into the chaining state. */
#define FOLD_INTO(state)                                                                                   \
    do {                                                                                                   \
        (state)[0] += a, (state)[1] += b, (state)[2] += c, (state)[3] += d;                                \
        (state)[4] += e, (state)[5] += f, (state)[6] += g, (state)[7] += h;                                \
    } while (0)

static void compress_portable(uint32_t state[8], const uint8_t *blocks, size_t nblocks)
{
    for (; nblocks; nblocks--, blocks += ALT_SHA256_BLOCK_SIZE) {
        /* The schedule kept as a ring of its last 16 words, extended as the rounds need it. */
        uint32_t w[16];
        for (int t = 0; t < 16; t++)
            w[t] = load_be32(blocks + 4 * t);
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
#define LOADED(t) w[t]
#define EXTENDED(t) (w[(t) & 15] += SSIG1(w[((t) - 2) & 15]) + w[((t) - 7) & 15] + SSIG0(w[((t) - 15) & 15]))
        ROUNDS8(0, LOADED);
        ROUNDS8(8, LOADED);
        for (int t = 16; t < 64; t += 8)
            ROUNDS8(t, EXTENDED);
#undef LOADED
#undef EXTENDED
        FOLD_INTO(state);
    }
}

static void expand_schedule(const uint8_t block[ALT_SHA256_BLOCK_SIZE], uint32_t w[64])
{
    for (int t = 0; t < 16; t++)
        w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++)
        w[t] = w[t - 16] + SSIG0(w[t - 15]) + w[t - 7] + SSIG1(w[t - 2]);
}

/* One block whose whole schedule is known in advance. */
static void compress_scheduled_portable(uint32_t state[8], const uint32_t w[64])
{
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
#define GIVEN(t) w[t]
    for (int t = 0; t < 64; t += 8)
        ROUNDS8(t, GIVEN);
#undef GIVEN
    FOLD_INTO(state);
}

size_t alt_sha256_pad_tail(const uint8_t *tail, size_t tail_len, uint64_t total_len, uint8_t pad[128])
{
    size_t nblocks = tail_len < 56 ? 1 : 2;
    size_t end = nblocks * ALT_SHA256_BLOCK_SIZE;
    if (tail_len)
        memcpy(pad, tail, tail_len);
    pad[tail_len] = 0x80;
    memset(pad + tail_len + 1, 0, end - 8 - tail_len - 1);
    uint64_t bits = total_len << 3;
    store_be32(pad + end - 8, (uint32_t)(bits >> 32));
    store_be32(pad + end - 4, (uint32_t)bits);
    return nblocks;
}

static void digest_bytes(const uint32_t state[8], uint8_t out[ALT_SHA256_DIGEST_SIZE])
{
    for (int i = 0; i < 8; i++)
        store_be32(out + 4 * i, state[i]);
}

static void oneshot_with(alt_sha256_compress_fn compress, const uint8_t *data, size_t len, uint8_t *out)
{
    uint32_t state[8];
    uint8_t pad[128];
    memcpy(state, alt_sha256_h0, sizeof state);
    size_t full = len / ALT_SHA256_BLOCK_SIZE;
    if (full)
        compress(state, data, full);
    size_t tail = len % ALT_SHA256_BLOCK_SIZE;
    compress(state, pad, alt_sha256_pad_tail(data + full * ALT_SHA256_BLOCK_SIZE, tail, len, pad));
    digest_bytes(state, out);
}

/* When msg_len is a multiple of 64, every message ends in the same padding-only block, whose schedule is
 * expanded once. */
static void many_portable(const uint8_t *data, size_t msg_len, size_t count, uint8_t *out)
{
    if (msg_len % ALT_SHA256_BLOCK_SIZE) {
        for (size_t i = 0; i < count; i++)
            oneshot_with(compress_portable, data + i * msg_len, msg_len, out + i * ALT_SHA256_DIGEST_SIZE);
        return;
    }
    uint8_t pad[128];
    uint32_t padding_w[64];
    alt_sha256_pad_tail(NULL, 0, msg_len, pad);
    expand_schedule(pad, padding_w);
    for (size_t i = 0; i < count; i++) {
        uint32_t state[8];
        memcpy(state, alt_sha256_h0, sizeof state);
        compress_portable(state, data + i * msg_len, msg_len / ALT_SHA256_BLOCK_SIZE);
        compress_scheduled_portable(state, padding_w);
        digest_bytes(state, out + i * ALT_SHA256_DIGEST_SIZE);
    }
}

/* ---- tiers ---- */

typedef struct tier {
    const char *name;
    alt_sha256_compress_fn compress;
    alt_sha256_many_fn many;
} tier;

static const tier portable_tier = {"portable", compress_portable, many_portable};
#if defined(ALT_X86_TIERS)
static const tier shani_tier = {"sha-ni", alt_sha256_compress_shani, alt_sha256_many_shani};
#endif

static void add(alt_tier_list *tiers, const tier *t) { alt_tiers_add(tiers, t->name, t); }

void alt_sha256_list_tiers(alt_tier_list *tiers)
{
    add(tiers, &portable_tier);
#if defined(ALT_X86_TIERS)
    if (alt_cpu_detect()->sha && alt_cpu_detect()->sse41)
        add(tiers, &shani_tier);
#endif
}

static const tier *active(void) { return alt_tiers_active(ALT_FAMILY_SHA256); }

/* ---- public API ---- */

void alt_sha256_init(alt_sha256_ctx *ctx)
{
    memcpy(ctx->state, alt_sha256_h0, sizeof ctx->state);
    ctx->total_len = 0;
    ctx->buffer_len = 0;
}

int alt_sha256_update(alt_sha256_ctx *ctx, const uint8_t *data, size_t len)
{
    if ((uint64_t)len > ALT_SHA256_MAX_BYTES - ctx->total_len)
        return ALT_ERANGE;
    if (!len)
        return ALT_OK;
    alt_sha256_compress_fn compress = active()->compress;
    ctx->total_len += len;
    if (ctx->buffer_len) {
        size_t take = ALT_SHA256_BLOCK_SIZE - ctx->buffer_len;
        if (take > len)
            take = len;
        memcpy(ctx->buffer + ctx->buffer_len, data, take);
        ctx->buffer_len += take;
        data += take;
        len -= take;
        if (ctx->buffer_len < ALT_SHA256_BLOCK_SIZE)
            return ALT_OK;
        compress(ctx->state, ctx->buffer, 1);
        ctx->buffer_len = 0;
    }
    size_t full = len / ALT_SHA256_BLOCK_SIZE;
    if (full)
        compress(ctx->state, data, full);
    ctx->buffer_len = len % ALT_SHA256_BLOCK_SIZE;
    if (ctx->buffer_len)
        memcpy(ctx->buffer, data + full * ALT_SHA256_BLOCK_SIZE, ctx->buffer_len);
    return ALT_OK;
}

int alt_sha256_final(alt_sha256_ctx *ctx, uint8_t out[ALT_SHA256_DIGEST_SIZE])
{
    uint8_t pad[128];
    size_t nblocks = alt_sha256_pad_tail(ctx->buffer, ctx->buffer_len, ctx->total_len, pad);
    active()->compress(ctx->state, pad, nblocks);
    digest_bytes(ctx->state, out);
    memset(ctx, 0, sizeof *ctx);
    return ALT_OK;
}

int alt_sha256(const uint8_t *data, size_t len, uint8_t out[ALT_SHA256_DIGEST_SIZE])
{
    if ((uint64_t)len > ALT_SHA256_MAX_BYTES)
        return ALT_ERANGE;
    oneshot_with(active()->compress, data, len, out);
    return ALT_OK;
}

int alt_sha256_blocks(const uint8_t *data, size_t len, size_t block_size, uint8_t *out)
{
    if (!block_size)
        return ALT_EINVAL;
    if ((uint64_t)block_size > ALT_SHA256_MAX_BYTES && len > ALT_SHA256_MAX_BYTES)
        return ALT_ERANGE;
    const tier *t = active();
    size_t full = len / block_size;
    if (full)
        t->many(data, block_size, full, out);
    size_t rest = len % block_size;
    if (rest)
        oneshot_with(t->compress, data + full * block_size, rest, out + full * ALT_SHA256_DIGEST_SIZE);
    return ALT_OK;
}
