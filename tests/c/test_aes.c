/* AES-128 and AES-MMO in C: FIPS-197 C.1 and ZigBee Annex C.5 vectors on every tier, and every tier
 * against the portable one over many lengths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes.h"
#include "tiers.h"

#include "check.h"

static void unhex(const char *hex, uint8_t *out)
{
    for (size_t i = 0; hex[2 * i]; i++)
        sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static uint32_t rng_state = 12345;
static uint8_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (uint8_t)(rng_state >> 16);
}

static void vectors(const char *tier)
{
    uint8_t key[16], pt[16], want[16], got[16];
    alt_aes128_key ks;
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    unhex("00112233445566778899aabbccddeeff", pt);
    unhex("69c4e0d86a7b0430d8cdb78070b4c55a", want);
    CHECK(alt_aes128_expand_key(key, &ks) == ALT_OK, "expand");
    CHECK(alt_aes128_encrypt_ecb(&ks, pt, 16, got) == ALT_OK, "ecb");
    CHECK(!memcmp(got, want, 16), "[%s] FIPS-197 C.1", tier);
    CHECK(alt_aes128_encrypt_ecb(&ks, pt, 15, got) == ALT_EINVAL, "[%s] partial block accepted", tier);

    static uint8_t counting[8202];
    for (size_t i = 0; i < sizeof counting; i++)
        counting[i] = (uint8_t)i;
    struct { size_t len; const char *digest; } mmo[] = {
        {8191, "24ec2fe75bbffcb34789bc0610e7f165"}, {8192, "dc6b0687f09f8607131c170b3bd31591"},
        {8201, "72c9b15e178aa843e4a16c58e33643a3"}, {8202, "bc9828d59b2aa323daf20be5f2e66511"},
    };
    for (size_t v = 0; v < sizeof mmo / sizeof mmo[0]; v++) {
        unhex(mmo[v].digest, want);
        CHECK(alt_aes_mmo(counting, mmo[v].len, got) == ALT_OK, "mmo");
        CHECK(!memcmp(got, want, 16), "[%s] AES-MMO of %zu bytes", tier, mmo[v].len);
    }
    uint8_t c0 = 0xc0;
    unhex("ae3a102a28d43ee0d4a09e22788b206c", want);
    alt_aes_mmo(&c0, 1, got);
    CHECK(!memcmp(got, want, 16), "[%s] AES-MMO of C0", tier);
    CHECK(alt_aes_mmo(NULL, 0, got) == ALT_OK, "[%s] empty input", tier);
}

int main(void)
{
    int tiers = alt_tiers_count(ALT_FAMILY_AES);
    CHECK(tiers >= 1 && !strcmp(alt_tiers_name(ALT_FAMILY_AES, 0), "portable"), "tier 0 is portable");
    CHECK(alt_tiers_get(ALT_FAMILY_AES) == tiers - 1, "starts on the best tier");
    CHECK(alt_tiers_set(ALT_FAMILY_AES, tiers) == ALT_EUNSUPPORTED, "out-of-range tier accepted");
    CHECK(alt_tiers_name(ALT_FAMILY_AES, tiers) == NULL, "name of an out-of-range tier");

    enum { MAX = 16 * 300 };
    static uint8_t data[MAX], ref[MAX], got[MAX];
    for (int t = 0; t < tiers; t++) {
        alt_tiers_set(ALT_FAMILY_AES, t);
        vectors(alt_tiers_name(ALT_FAMILY_AES, t));
    }
    for (int round = 0; round < 200; round++) {
        uint8_t key[16], ref_d[16], got_d[16];
        for (int i = 0; i < 16; i++)
            key[i] = rnd();
        size_t len = (size_t)(rnd() | rnd() << 8) % MAX;
        for (size_t i = 0; i < len; i++)
            data[i] = rnd();
        alt_aes128_key ks, ks_ref;
        alt_tiers_set(ALT_FAMILY_AES, 0);
        alt_aes128_expand_key(key, &ks_ref);
        alt_aes128_encrypt_ecb(&ks_ref, data, len & ~(size_t)15, ref);
        alt_aes_mmo(data, len, ref_d);
        for (int t = 1; t < tiers; t++) {
            alt_tiers_set(ALT_FAMILY_AES, t);
            alt_aes128_expand_key(key, &ks);
            CHECK(!memcmp(&ks, &ks_ref, sizeof ks), "[%s] key schedule differs", alt_tiers_name(ALT_FAMILY_AES, t));
            alt_aes128_encrypt_ecb(&ks, data, len & ~(size_t)15, got);
            CHECK(!memcmp(got, ref, len & ~(size_t)15), "[%s] ECB of %zu bytes", alt_tiers_name(ALT_FAMILY_AES, t),
                  len);
            alt_aes_mmo(data, len, got_d);
            CHECK(!memcmp(got_d, ref_d, 16), "[%s] AES-MMO of %zu bytes", alt_tiers_name(ALT_FAMILY_AES, t), len);
        }
    }
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("test_aes: %d tiers OK\n", tiers);
    return failures != 0;
}
