/* SHA-256: FIPS 180-4 example vectors on every tier, then every fast tier against the portable one
 * (one-shot, streaming in uneven pieces, per-block hashing), and argument errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alt_status.h"
#include "sha256.h"
#include "tiers.h"

#include "check.h"

static void hex(const uint8_t *d, char *s)
{
    for (int i = 0; i < 32; i++)
        sprintf(s + 2 * i, "%02x", d[i]);
}

static void check_vector(const char *tier, const uint8_t *msg, size_t len, const char *expected)
{
    uint8_t d[32];
    char s[65];
    CHECK(alt_sha256(msg, len, d) == ALT_OK, "%s: alt_sha256 status", tier);
    hex(d, s);
    CHECK(strcmp(s, expected) == 0, "%s: one-shot of %zu bytes gave %s, want %s", tier, len, s, expected);

    /* The same message through the streaming API, fed 7 bytes at a time. */
    alt_sha256_ctx ctx;
    alt_sha256_init(&ctx);
    for (size_t off = 0; off < len; off += 7)
        CHECK(alt_sha256_update(&ctx, msg + off, len - off < 7 ? len - off : 7) == ALT_OK, "%s: update", tier);
    alt_sha256_final(&ctx, d);
    hex(d, s);
    CHECK(strcmp(s, expected) == 0, "%s: streamed %zu bytes gave %s, want %s", tier, len, s, expected);
}

static void fips_vectors(const char *tier)
{
    check_vector(tier, (const uint8_t *)"abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_vector(tier, (const uint8_t *)"", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_vector(tier, (const uint8_t *)m448, strlen(m448),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    size_t n = 1000000;
    uint8_t *a = malloc(n);
    memset(a, 'a', n);
    check_vector(tier, a, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint8_t next_byte(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint8_t)rng_state;
}

/* Digests of every way of using the API, computed on the current tier, for comparison across tiers. The
 * block sizes hit every padding case and leave 0 to 3 whole blocks after the groups of four. */
#define DATA_LEN 4200
#define BLOCK_SIZES 13
static const size_t block_sizes[BLOCK_SIZES] = {1, 31, 55, 56, 63, 64, 65, 119, 120, 128, 384, 1000, 5000};

typedef struct results {
    uint8_t oneshot[DATA_LEN + 1][32];
    uint8_t streamed[DATA_LEN + 1][32];
    uint8_t *blocks[BLOCK_SIZES];
} results;

static void compute(const uint8_t *data, results *r)
{
    for (size_t len = 0; len <= DATA_LEN; len++) {
        /* Odd offsets make the input unaligned. */
        const uint8_t *msg = data + (len % 17);
        alt_sha256(msg, len, r->oneshot[len]);
        alt_sha256_ctx ctx;
        alt_sha256_init(&ctx);
        size_t off = 0, piece = 1;
        while (off < len) {
            size_t take = piece < len - off ? piece : len - off;
            alt_sha256_update(&ctx, msg + off, take);
            off += take;
            piece = piece * 3 % 97 + 1;
        }
        alt_sha256_final(&ctx, r->streamed[len]);
    }
    for (int i = 0; i < BLOCK_SIZES; i++) {
        size_t n = (DATA_LEN + block_sizes[i] - 1) / block_sizes[i];
        r->blocks[i] = malloc(n * 32);
        CHECK(alt_sha256_blocks(data + 3, DATA_LEN, block_sizes[i], r->blocks[i]) == ALT_OK, "blocks status");
        /* Each block's digest is the one-shot digest of that block. */
        for (size_t b = 0; b < n; b++) {
            size_t start = b * block_sizes[i];
            size_t len = DATA_LEN - start < block_sizes[i] ? DATA_LEN - start : block_sizes[i];
            uint8_t d[32];
            alt_sha256(data + 3 + start, len, d);
            CHECK(memcmp(d, r->blocks[i] + 32 * b, 32) == 0, "block %zu of size %zu differs from its one-shot", b,
                  block_sizes[i]);
        }
    }
}

static void free_results(results *r)
{
    for (int i = 0; i < BLOCK_SIZES; i++)
        free(r->blocks[i]);
}

int main(void)
{
    int tiers = alt_tiers_count(ALT_FAMILY_SHA256);
    CHECK(tiers >= 1 && strcmp(alt_tiers_name(ALT_FAMILY_SHA256, 0), "portable") == 0, "tier 0 must be portable");
    CHECK(alt_tiers_get(ALT_FAMILY_SHA256) == tiers - 1, "the family starts on its best tier");
    CHECK(alt_tiers_name(ALT_FAMILY_SHA256, tiers) == NULL, "tier name out of range");
    CHECK(alt_tiers_set(ALT_FAMILY_SHA256, tiers) == ALT_EUNSUPPORTED &&
              alt_tiers_set(ALT_FAMILY_SHA256, -1) == ALT_EUNSUPPORTED,
          "set_tier out of range");

    uint8_t data[DATA_LEN + 32];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = next_byte();

    static results reference, other;
    alt_tiers_set(ALT_FAMILY_SHA256, 0);
    compute(data, &reference);
    for (int t = 0; t < tiers; t++) {
        const char *name = alt_tiers_name(ALT_FAMILY_SHA256, t);
        CHECK(alt_tiers_set(ALT_FAMILY_SHA256, t) == ALT_OK && alt_tiers_get(ALT_FAMILY_SHA256) == t, "set_tier %s",
              name);
        printf("tier %s\n", name);
        fips_vectors(name);
        if (t == 0)
            continue;
        compute(data, &other);
        for (size_t len = 0; len <= DATA_LEN; len++) {
            CHECK(memcmp(reference.oneshot[len], other.oneshot[len], 32) == 0, "%s: one-shot of %zu bytes", name, len);
            CHECK(memcmp(reference.streamed[len], other.streamed[len], 32) == 0, "%s: streamed %zu bytes", name, len);
            CHECK(memcmp(reference.oneshot[len], other.streamed[len], 32) == 0, "%s: streamed != one-shot at %zu",
                  name, len);
        }
        for (int i = 0; i < BLOCK_SIZES; i++) {
            size_t n = (DATA_LEN + block_sizes[i] - 1) / block_sizes[i];
            CHECK(memcmp(reference.blocks[i], other.blocks[i], n * 32) == 0, "%s: blocks of %zu bytes", name,
                  block_sizes[i]);
        }
        free_results(&other);
    }
    free_results(&reference);

    uint8_t d[32];
    CHECK(alt_sha256_blocks(data, 10, 0, d) == ALT_EINVAL, "block_size 0 must be rejected");
    CHECK(alt_sha256_blocks(data, 0, 64, d) == ALT_OK, "empty data gives no digests");
    alt_sha256_ctx ctx;
    alt_sha256_init(&ctx);
    ctx.total_len = (UINT64_C(1) << 61) - 2;
    CHECK(alt_sha256_update(&ctx, data, 2) == ALT_ERANGE, "a message over 2^61 - 1 bytes must be refused");
    CHECK(alt_sha256_update(&ctx, data, 1) == ALT_OK, "a message of exactly 2^61 - 1 bytes is allowed");

    if (failures)
        printf("%d failure(s)\n", failures);
    else
        printf("all sha256 checks passed on %d tier(s)\n", tiers);
    return failures != 0;
}
