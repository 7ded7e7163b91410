/* The CRC family at the C level: catalogue check values and a bit-at-a-time reference on the portable
 * tier, then every tier against the portable one on random lengths, offsets and starting values, chaining,
 * and the batch call against one call per block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alt_status.h"
#include "crc.h"
#include "tiers.h"

#include "check.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Straight from the model's definition, one bit at a time. */
static uint32_t reference(const alt_crc_model *m, const uint8_t *p, size_t n)
{
    const uint32_t top = 1u << (m->width - 1), mask = m->width == 32 ? 0xFFFFFFFFu : (1u << m->width) - 1;
    uint32_t reg = m->init;
    for (size_t i = 0; i < n; i++) {
        for (int b = 0; b < 8; b++) {
            int bit = m->reflected ? (p[i] >> b) & 1 : (p[i] >> (7 - b)) & 1;
            int out = (reg & top) != 0;
            reg = (reg << 1) & mask;
            if (out ^ bit)
                reg ^= m->poly;
        }
    }
    if (m->reflected) {
        uint32_t r = 0;
        for (unsigned b = 0; b < m->width; b++)
            r |= ((reg >> b) & 1u) << (m->width - 1 - b);
        reg = r;
    }
    return reg ^ m->xorout;
}

static uint32_t crc_of(int alg, const uint8_t *p, size_t n)
{
    uint32_t c = alt_crc_empty(alt_crc_model_get(alg));
    int rc = alt_crc_compute(alg, p, n, &c);
    CHECK(rc == ALT_OK, "alt_crc_compute status %d", rc);
    return c;
}

#define BUF 70000
static uint8_t buf[BUF];

static void test_tier(int tier)
{
    const char *tier_name = alt_tiers_name(ALT_FAMILY_CRC, tier);
    alt_tiers_set(ALT_FAMILY_CRC, tier);
    for (int alg = 0; alg < ALT_CRC_ALGORITHM_COUNT; alg++) {
        const alt_crc_model *m = alt_crc_model_get(alg);
        CHECK(crc_of(alg, (const uint8_t *)"123456789", 9) == m->check, "%s %s check", tier_name, m->name);
        CHECK(crc_of(alg, NULL, 0) == alt_crc_empty(m), "%s %s empty", tier_name, m->name);
        for (int trial = 0; trial < 300; trial++) {
            size_t len = trial < 150 ? (size_t)trial * 3 : trial < 280 ? rnd() % 5000 : rnd() % (BUF - 64);
            size_t off = rnd() % 64;
            uint32_t start = rnd() & (m->width == 32 ? 0xFFFFFFFFu : 0xFFFFu);
            uint32_t want = start, got = start;
            alt_tiers_set(ALT_FAMILY_CRC, 0);
            alt_crc_compute(alg, buf + off, len, &want);
            alt_tiers_set(ALT_FAMILY_CRC, tier);
            alt_crc_compute(alg, buf + off, len, &got);
            CHECK(got == want, "%s %s len %zu off %zu start %08x: %08x != portable %08x", tier_name, m->name,
                  len, off, start, got, want);
            size_t split = len ? rnd() % (len + 1) : 0;
            uint32_t chained = crc_of(alg, buf + off, split);
            alt_crc_compute(alg, buf + off + split, len - split, &chained);
            CHECK(chained == crc_of(alg, buf + off, len), "%s %s chain len %zu split %zu", tier_name, m->name,
                  len, split);
        }
        static const size_t block_sizes[] = {1, 7, 15, 16, 17, 31, 40, 48, 64, 100, 128, 255, 256, 257, 1000};
        for (size_t b = 0; b < sizeof block_sizes / sizeof *block_sizes; b++) {
            const size_t bs = block_sizes[b];
            for (int trial = 0; trial < 8; trial++) {
                size_t len = trial == 0 ? 0 : trial == 1 ? bs / 2 : rnd() % 4000, off = rnd() % 64;
                size_t count = (len + bs - 1) / bs;
                uint32_t out32[4000];
                uint16_t out16[4000];
                void *out = m->width == 16 ? (void *)out16 : (void *)out32;
                int rc = alt_crc_blocks(alg, buf + off, len, bs, out, count);
                CHECK(rc == ALT_OK, "blocks status %d", rc);
                for (size_t i = 0; i < count; i++) {
                    size_t n = i + 1 < count || len % bs == 0 ? bs : len % bs;
                    uint32_t want = crc_of(alg, buf + off + i * bs, n);
                    uint32_t got = m->width == 16 ? out16[i] : out32[i];
                    CHECK(got == want, "%s %s blocks bs %zu len %zu block %zu: %08x != %08x", tier_name,
                          m->name, bs, len, i, got, want);
                }
                CHECK(count == 0 || alt_crc_blocks(alg, buf + off, len, bs, out, count - 1) == ALT_EINVAL,
                      "blocks accepts a short output");
            }
        }
    }
}

int main(void)
{
    for (size_t i = 0; i < BUF; i++)
        buf[i] = (uint8_t)rnd();
    CHECK(alt_tiers_count(ALT_FAMILY_CRC) >= 1 && strcmp(alt_tiers_name(ALT_FAMILY_CRC, 0), "portable") == 0,
          "tier 0 is portable");
    CHECK(alt_tiers_get(ALT_FAMILY_CRC) == alt_tiers_count(ALT_FAMILY_CRC) - 1, "starts on the best tier");
    CHECK(alt_tiers_set(ALT_FAMILY_CRC, alt_tiers_count(ALT_FAMILY_CRC)) == ALT_EUNSUPPORTED, "set_tier out of range");
    CHECK(alt_crc_model_get(ALT_CRC_ALGORITHM_COUNT) == NULL, "model out of range");

    alt_tiers_set(ALT_FAMILY_CRC, 0);
    for (int alg = 0; alg < ALT_CRC_ALGORITHM_COUNT; alg++) {
        const alt_crc_model *m = alt_crc_model_get(alg);
        for (size_t len = 0; len < 300; len += 1 + len / 8) {
            size_t off = rnd() % 64;
            CHECK(crc_of(alg, buf + off, len) == reference(m, buf + off, len), "portable %s len %zu vs reference",
                  m->name, len);
        }
        uint32_t too_wide = m->width == 16 ? 0x10000u : 0;
        CHECK(m->width == 32 || alt_crc_compute(alg, buf, 1, &too_wide) == ALT_EINVAL, "%s wide start", m->name);
    }
    /* The derived Barrett constants agree with published ones: bit-reflected floor(x^64 / P) and P, from Linux
     * arch/x86/crypto/crc32-pclmul_asm.S (CRC-32) and the Intel "Fast CRC Computation for Generic Polynomials
     * Using PCLMULQDQ" constants as used in Hadoop's bulk_crc32 (CRC-32C). */
    const alt_crc_impl *crc32 = alt_crc_impl_get(ALT_CRC32_ISO_HDLC), *crc32c = alt_crc_impl_get(ALT_CRC32_ISCSI);
    CHECK(crc32->barrett[0] == 0x1F7011641ull && crc32->barrett[1] == 0x1DB710641ull, "CRC-32 Barrett constants");
    CHECK(crc32c->barrett[0] == 0x0DEA713F1ull && crc32c->barrett[1] == 0x105EC76F1ull,
          "CRC-32C Barrett constants");

    uint32_t c = 0;
    CHECK(alt_crc_compute(ALT_CRC_ALGORITHM_COUNT, buf, 1, &c) == ALT_EINVAL, "unknown algorithm");
    CHECK(alt_crc_blocks(0, buf, 10, 0, &c, 1) == ALT_EINVAL, "block size 0");

    /* ZigBee install code (VECTORS.md): CRC-16/X-25 of the 16 bytes is 0xB5C3, stored as C3 B5 */
    static const uint8_t install_code[16] = {0x83, 0xFE, 0xD3, 0x40, 0x7A, 0x93, 0x97, 0x23,
                                             0xA5, 0xC6, 0x39, 0xB2, 0x69, 0x16, 0xD5, 0x05};
    for (int tier = 0; tier < alt_tiers_count(ALT_FAMILY_CRC); tier++) {
        alt_tiers_set(ALT_FAMILY_CRC, tier);
        CHECK(crc_of(ALT_CRC16_IBM_SDLC, install_code, 16) == 0xB5C3, "install code on %s",
              alt_tiers_name(ALT_FAMILY_CRC, tier));
        test_tier(tier);
    }
    if (failures)
        printf("%d failures\n", failures);
    else
        printf("crc: all checks passed on %d tiers\n", alt_tiers_count(ALT_FAMILY_CRC));
    return failures != 0;
}
