/* CCM* in C: RFC 3610 packet vector 1 on every tier, then every tier against the portable one for single
 * frames and for batches (fixed shape, which takes the uniform kernels, and ragged), including forged
 * frames. Buffers are allocated to their exact sizes so that ASan sees any over-read of the caller's data. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes.h"
#include "ccm.h"
#include "tiers.h"

#include "check.h"

static uint32_t rng_state = 777;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static uint8_t *random_bytes(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
    return p;
}

static void rfc3610_vector1(const char *tier)
{
    uint8_t key[16], nonce[13] = {0, 0, 0, 3, 2, 1, 0, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5}, aad[8], pt[23];
    uint8_t out[31], back[23];
    static const uint8_t want[31] = {0x58, 0x8c, 0x97, 0x9a, 0x61, 0xc6, 0x63, 0xd2, 0xf0, 0x66, 0xd0,
                                     0xc2, 0xc0, 0xf9, 0x89, 0x80, 0x6d, 0x5f, 0x6b, 0x61, 0xda, 0xc3,
                                     0x84, 0x17, 0xe8, 0xd1, 0x2c, 0xfd, 0xf9, 0x26, 0xe0};
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(0xc0 + i);
    for (int i = 0; i < 8; i++)
        aad[i] = (uint8_t)i;
    for (int i = 0; i < 23; i++)
        pt[i] = (uint8_t)(8 + i);
    CHECK(alt_ccm_encrypt(key, nonce, 13, aad, 8, pt, 23, 8, out) == ALT_OK, "encrypt");
    CHECK(!memcmp(out, want, 31), "[%s] RFC 3610 packet vector 1", tier);
    CHECK(alt_ccm_decrypt(key, nonce, 13, aad, 8, out, 31, 8, back) == ALT_OK, "[%s] decrypt", tier);
    CHECK(!memcmp(back, pt, 23), "[%s] round trip", tier);
    out[30] ^= 1;
    CHECK(alt_ccm_decrypt(key, nonce, 13, aad, 8, out, 31, 8, back) == ALT_EAUTH, "[%s] forgery", tier);
    CHECK(alt_ccm_encrypt(key, nonce, 6, aad, 8, pt, 23, 8, out) == ALT_EINVAL, "nonce 6 accepted");
    CHECK(alt_ccm_encrypt(key, nonce, 13, aad, 8, pt, 23, 5, out) == ALT_EINVAL, "MIC 5 accepted");
    CHECK(alt_ccm_check_params(13, 8, 65536) == ALT_ERANGE, "65536 bytes with a 13-byte nonce");
    CHECK(alt_ccm_check_params(13, 8, 65535) == ALT_OK, "65535 bytes with a 13-byte nonce");
}

static const size_t mics[] = {0, 4, 6, 8, 10, 12, 14, 16};

static void single_frames(int tiers)
{
    for (int round = 0; round < 300; round++) {
        size_t nonce_len = 7 + rnd() % 7, mic = mics[rnd() % 8];
        size_t aad_len = rnd() % 70, len = rnd() % 150;
        uint8_t *key = random_bytes(16), *nonce = random_bytes(nonce_len), *aad = random_bytes(aad_len);
        uint8_t *pt = random_bytes(len), *ref = malloc(len + mic + 1), *got = malloc(len + mic + 1);
        uint8_t *back = malloc(len + 1);
        alt_tiers_set(ALT_FAMILY_AES, 0);
        alt_ccm_encrypt(key, nonce, nonce_len, aad, aad_len, pt, len, mic, ref);
        for (int t = 1; t < tiers; t++) {
            alt_tiers_set(ALT_FAMILY_AES, t);
            CHECK(alt_ccm_encrypt(key, nonce, nonce_len, aad, aad_len, pt, len, mic, got) == ALT_OK, "enc");
            CHECK(!memcmp(got, ref, len + mic), "[%s] single frame nonce %zu mic %zu aad %zu len %zu",
                  alt_tiers_name(ALT_FAMILY_AES, t), nonce_len, mic, aad_len, len);
            CHECK(alt_ccm_decrypt(key, nonce, nonce_len, aad, aad_len, got, len + mic, mic, back) == ALT_OK &&
                      !memcmp(back, pt, len), "[%s] single frame decrypt", alt_tiers_name(ALT_FAMILY_AES, t));
        }
        free(key), free(nonce), free(aad), free(pt), free(ref), free(got), free(back);
    }
}

enum { FIXED, RAGGED, FEW_SHAPES };   /* FEW_SHAPES: ragged, every frame len or len / 2 bytes (staged) */

/* One batch, fixed shape or ragged, on every tier; the portable tier's output is the reference. */
static void batch(int tiers, size_t n, size_t nonce_len, size_t mic, size_t aad_len, size_t len, int layout,
                  int key_mode)
{
    bool ragged = layout != FIXED;
    size_t key_count = key_mode == 0 ? 1 : key_mode == 1 ? 3 : n;
    uint8_t *keys = random_bytes(16 * key_count), *nonces = random_bytes(n * nonce_len);
    int64_t *key_index = NULL, *offsets = NULL;
    if (key_mode == 1) {
        key_index = malloc(n * sizeof *key_index);
        for (size_t i = 0; i < n; i++)
            key_index[i] = rnd() % 3;
    }
    size_t in_total = n * len;
    if (ragged) {
        offsets = malloc((n + 1) * sizeof *offsets);
        offsets[0] = 0;
        for (size_t i = 0; i < n; i++)
            offsets[i + 1] = offsets[i] + (int64_t)(layout == FEW_SHAPES ? (rnd() % 2 ? len : len / 2)
                                                                         : rnd() % (len + 1));
        in_total = (size_t)offsets[n];
    }
    uint8_t *aad = random_bytes(n * aad_len), *pt = random_bytes(in_total);
    size_t ct_total = in_total + n * mic;
    uint8_t *ref = malloc(ct_total + 1), *got = malloc(ct_total + 1), *back = malloc(in_total + 1);
    uint8_t *ok = malloc(n + 1);
    int64_t *ct_offsets = NULL;
    if (ragged) {
        ct_offsets = malloc((n + 1) * sizeof *ct_offsets);
        for (size_t i = 0; i <= n; i++)
            ct_offsets[i] = offsets[i] + (int64_t)(i * mic);
    }
    alt_ccm_batch enc = {n, keys, key_count, key_index, nonces, nonce_len, {aad_len ? aad : NULL, NULL, aad_len},
                         {pt, offsets, ragged ? 0 : len}, ref, mic, ok};
    alt_tiers_set(ALT_FAMILY_AES, 0);
    CHECK(alt_ccm_encrypt_batch(&enc) == ALT_OK, "portable batch");
    for (int t = 1; t < tiers; t++) {
        alt_tiers_set(ALT_FAMILY_AES, t);
        const char *name = alt_tiers_name(ALT_FAMILY_AES, t);
        enc.out = got;
        CHECK(alt_ccm_encrypt_batch(&enc) == ALT_OK, "batch");
        CHECK(!memcmp(got, ref, ct_total), "[%s] batch n %zu nonce %zu mic %zu aad %zu len %zu ragged %d keys %d",
              name, n, nonce_len, mic, aad_len, len, ragged, key_mode);
        if (mic && n > 2)
            got[ragged ? (size_t)ct_offsets[2] : 2 * (len + mic)] ^= 0x40;   /* frame 2 (or its MIC) */
        alt_ccm_batch dec = enc;
        dec.in = (alt_ccm_spans){got, ct_offsets, ragged ? 0 : len + mic};
        dec.out = back;
        CHECK(alt_ccm_decrypt_batch(&dec) == ALT_OK, "decrypt batch");
        for (size_t i = 0; i < n; i++) {
            bool forged = mic && n > 2 && i == 2 &&
                          (!ragged || ct_offsets[3] > ct_offsets[2]);
            CHECK(ok[i] == !forged, "[%s] frame %zu ok %d", name, i, ok[i]);
            size_t off = ragged ? (size_t)offsets[i] : i * len;
            size_t flen = ragged ? (size_t)(offsets[i + 1] - offsets[i]) : len;
            if (!forged)
                CHECK(!memcmp(back + off, pt + off, flen), "[%s] frame %zu plaintext", name, i);
        }
    }
    free(keys), free(nonces), free(key_index), free(offsets), free(aad), free(pt), free(ref), free(got);
    free(back), free(ok), free(ct_offsets);
}

int main(void)
{
    int tiers = alt_tiers_count(ALT_FAMILY_AES);
    for (int t = 0; t < tiers; t++) {
        alt_tiers_set(ALT_FAMILY_AES, t);
        rfc3610_vector1(alt_tiers_name(ALT_FAMILY_AES, t));
    }
    single_frames(tiers);
    static const size_t shapes[][4] = {
        /* nonce, mic, aad, len */
        {13, 8, 22, 64}, {13, 4, 0, 0}, {7, 16, 3, 17}, {11, 0, 40, 5}, {13, 8, 0, 100}, {8, 6, 15, 1},
        {13, 8, 30, 16}, {12, 0, 0, 33},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int key_mode = 0; key_mode < 3; key_mode++)
            for (size_t n = 0; n < 80; n += 13) {   /* up to 4 groups of the widest kernel (16 frames) */
                batch(tiers, n, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], FIXED, key_mode);
                batch(tiers, n, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], RAGGED, key_mode);
            }
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)      /* enough frames per shape to stage */
        for (int key_mode = 0; key_mode < 3; key_mode++)
            for (size_t n = 31; n < 700; n += 333)
                batch(tiers, n, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], FEW_SHAPES, key_mode);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("test_ccm: %d tiers OK\n", tiers);
    return failures != 0;
}
