/* Frames in C, on every AES and CRC tier: the IEEE 802.15.4-2006 Annex C secured frames (data level 4,
 * command level 6, beacon level 2) parsed and rebuilt byte for byte; a ZigBee Image Block Response inside a
 * MAC-secured bridge frame built, parsed back and tampered with; truncations of it never crash; the batch
 * builder equals the single-frame builder. PSDUs are copied into exact-size heap buffers so ASan sees any
 * read past a frame. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes.h"
#include "crc.h"
#include "frames.h"
#include "tiers.h"

#include "check.h"

static uint8_t annex_key[16];

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    while (h[0] && h[1]) {
        if (h[0] == ' ') {
            h++;
            continue;
        }
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

static size_t with_fcs(uint8_t *b, size_t n)
{
    uint32_t crc = alt_crc_empty(alt_crc_model_get(ALT_CRC16_KERMIT));
    alt_crc_compute(ALT_CRC16_KERMIT, b, n, &crc);
    b[n] = (uint8_t)crc;
    b[n + 1] = (uint8_t)(crc >> 8);
    return n + 2;
}

static int parse_exact(const uint8_t *psdu, size_t len, const alt_frames_keys *k, uint8_t *clear,
                       alt_frames_frame *f, alt_frames_status *st)
{
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, psdu, len);
    int rc = alt_frames_parse(copy, len, true, k, clear, f, st);
    free(copy);
    return rc;
}

/* Annex C: parse with the key, check the payload, then rebuild from the parsed description. */
static void annex_c(const char *tier, const char *hex, const char *payload_hex, const char *name)
{
    uint8_t psdu[128], want_payload[64], clear[ALT_FRAMES_MAX_PSDU], rebuilt[128];
    size_t len = with_fcs(psdu, unhex(hex, psdu)), plen = unhex(payload_hex, want_payload), rlen = 0;
    alt_frames_keys keys = {.mac_key = annex_key};
    alt_frames_frame f;
    alt_frames_status st;
    int rc = parse_exact(psdu, len, &keys, clear, &f, &st);
    CHECK(rc == ALT_OK && st.fcs_ok && st.mac_sec == ALT_FRAMES_SEC_OK, "[%s] %s: rc %d (%s)", tier, name, rc,
          st.error ? st.error : "");
    CHECK(f.mac.src_addr == 0xACDE480000000001ull && f.mac.frame_counter == 5, "[%s] %s fields", tier, name);
    CHECK(f.payload_len == plen && !memcmp(f.payload, want_payload, plen), "[%s] %s payload", tier, name);
    uint8_t payload[64];
    memcpy(payload, f.payload, f.payload_len);
    f.payload = payload;
    rc = alt_frames_build(&f, annex_key, NULL, NULL, rebuilt, sizeof rebuilt, &rlen);
    CHECK(rc == ALT_OK && rlen == len && !memcmp(rebuilt, psdu, len), "[%s] %s rebuilt: rc %d", tier, name, rc);
    psdu[len - 3] ^= 0x10;   /* inside the MIC or ciphertext, FCS made right again */
    with_fcs(psdu, len - 2);
    rc = parse_exact(psdu, len, &keys, clear, &f, &st);
    if (alt_frames_mic_len(f.mac.sec_level))
        CHECK(rc == ALT_EAUTH && st.fcs_ok && st.mac_sec == ALT_FRAMES_SEC_BAD_MIC, "[%s] %s forgery", tier, name);
    else   /* encryption only: nothing to detect it, the plaintext changes */
        CHECK(rc == ALT_OK && f.payload_len == plen && memcmp(f.payload, want_payload, plen), "[%s] %s", tier, name);
}

static const uint8_t nwk_key[16] = {0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89,
                                    0, 0, 0, 0, 0, 0, 0, 0};

static alt_frames_frame image_block_response(const uint8_t *data, uint8_t size, uint32_t counter, bool bridge)
{
    alt_frames_frame f;
    memset(&f, 0, sizeof f);
    f.mac = (alt_frames_mac){.frame_type = ALT_FRAMES_MAC_DATA, .frame_version = bridge, .ack_request = true,
                             .pan_id_compression = true, .seq = 7, .dst_mode = ALT_FRAMES_ADDR_SHORT,
                             .dst_pan = 0x1a62, .dst_addr = 0x3344,
                             .src_mode = bridge ? ALT_FRAMES_ADDR_EXT : ALT_FRAMES_ADDR_SHORT,
                             .src_addr = bridge ? 0x0011223344556677ull : 0x0000, .security = bridge,
                             .sec_level = 5, .key_id_mode = 1, .key_index = 1, .frame_counter = counter};
    f.has_nwk = f.has_aps = f.has_zcl = f.has_ota = true;
    f.nwk = (alt_frames_nwk){.protocol_version = 2, .security = true, .has_src_ieee = true, .dst = 0x3344,
                             .src = 0x0000, .radius = 30, .seq = 99, .src_ieee = 0x00124b0001020304ull,
                             .sec_level = 5, .key_id = ALT_FRAMES_KEY_NETWORK, .ext_nonce = true,
                             .frame_counter = counter, .sec_src = 0x00124b0001020304ull, .key_seq = 0};
    f.aps = (alt_frames_aps){.delivery_mode = 0, .dst_endpoint = 1, .src_endpoint = 1,
                             .cluster = ALT_FRAMES_CLUSTER_OTA, .profile = ALT_FRAMES_PROFILE_SE, .counter = 42};
    f.zcl = (alt_frames_zcl){.frame_type = 1, .server_to_client = true, .disable_default_response = true,
                             .seq = 17, .command = ALT_OTA_IMAGE_BLOCK_RESPONSE};
    f.ota = (alt_frames_ota){.status = ALT_OTA_SUCCESS, .manufacturer = 0x1234, .image_type = 0x0001,
                             .file_version = 0x01020304, .file_offset = 4096, .data_size = size, .data = data};
    return f;
}

static void zigbee_round_trip(const char *tier, bool bridge)
{
    uint8_t data[64], psdu[128], clear[ALT_FRAMES_MAX_PSDU];
    for (int i = 0; i < 64; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    uint8_t size = bridge ? 32 : 48;
    alt_frames_frame f = image_block_response(data, size, 1000, bridge), g;
    size_t len = 0;
    int rc = alt_frames_build(&f, bridge ? annex_key : NULL, nwk_key, NULL, psdu, sizeof psdu, &len);
    CHECK(rc == ALT_OK, "[%s] build rc %d", tier, rc);
    size_t sc = bridge ? 3 + 2 + 2 + 8 + 6 + 8 + 16 : 3 + 2 + 2 + 2 + 8 + 8;   /* NWK security control */
    if (!bridge)
        CHECK((psdu[sc] & 7) == 0 && psdu[sc] == 0x28, "[%s] NWK security level on the air %02x", tier, psdu[sc]);
    alt_frames_keys keys = {.mac_key = annex_key, .nwk_key = nwk_key};
    alt_frames_status st;
    rc = parse_exact(psdu, len, &keys, clear, &g, &st);
    CHECK(rc == ALT_OK && g.has_ota && st.nwk_sec == ALT_FRAMES_SEC_OK, "[%s] parse rc %d (%s)", tier, rc,
          st.error ? st.error : "");
    CHECK(g.ota.file_offset == 4096 && g.ota.data_size == size && !memcmp(g.ota.data, data, size) &&
              g.nwk.frame_counter == 1000 && g.aps.cluster == 0x0019 && g.zcl.seq == 17,
          "[%s] parsed fields", tier);
    CHECK(!bridge || st.mac_sec == ALT_FRAMES_SEC_OK, "[%s] MAC security", tier);
    /* without the keys: the layers stay protected, no error */
    alt_frames_keys none = {0};
    rc = parse_exact(psdu, len, &none, clear, &g, &st);
    CHECK(rc == ALT_OK && (bridge ? st.mac_sec : st.nwk_sec) == ALT_FRAMES_SEC_NO_KEY && !g.has_ota,
          "[%s] no key", tier);
    /* every bit flip: FCS failure; every truncation: an error, never a crash */
    for (size_t i = 0; i < len * 8; i += 5) {
        psdu[i / 8] ^= (uint8_t)(1 << i % 8);
        rc = parse_exact(psdu, len, &keys, clear, &g, &st);
        CHECK(rc == ALT_EAUTH && !st.fcs_ok, "[%s] bit %zu flipped: rc %d", tier, i, rc);
        psdu[i / 8] ^= (uint8_t)(1 << i % 8);
    }
    for (size_t n = 0; n < len; n++) {
        uint8_t cut[128];
        memcpy(cut, psdu, n);
        if (n >= 2)
            with_fcs(cut, n - 2);
        rc = parse_exact(cut, n, &keys, clear, &g, &st);
        CHECK(rc != ALT_OK || !g.has_ota, "[%s] truncated to %zu parsed as complete", tier, n);
    }
    /* a 127-byte limit: a frame that cannot fit is refused */
    alt_frames_frame big = image_block_response(data, 64, 1, true);
    uint8_t bigdata[128] = {0};
    big.ota.data = bigdata;
    big.ota.data_size = 100;
    CHECK(alt_frames_build(&big, annex_key, nwk_key, NULL, psdu, sizeof psdu, &len) == ALT_ERANGE,
          "[%s] oversize frame", tier);
}

static void batch_equals_single(const char *tier)
{
    enum { N = 37 };
    uint8_t data[64], keys[3 * 16], out[N * 128], one[128];
    for (int i = 0; i < 64; i++)
        data[i] = (uint8_t)i;
    for (int i = 0; i < 48; i++)
        keys[i] = (uint8_t)(i * 31);
    int64_t key_index[N];
    alt_frames_frame fr[N];
    uint16_t lens[N];
    for (int i = 0; i < N; i++) {
        fr[i] = image_block_response(data, (uint8_t)(i & 1 ? 10 + i % 30 : 30 + i % 20), (uint32_t)(5 + i), i & 1);
        key_index[i] = i % 3;
    }
    size_t failed = 99;
    int rc = alt_frames_build_batch(fr, N, keys, keys, 3, key_index, out, 128, lens, &failed);
    CHECK(rc == ALT_OK, "[%s] batch rc %d at %zu", tier, rc, failed);
    for (int i = 0; i < N; i++) {
        size_t len = 0;
        const uint8_t *k = keys + 16 * key_index[i];
        alt_frames_build(&fr[i], k, k, NULL, one, sizeof one, &len);
        CHECK(len == lens[i] && !memcmp(one, out + 128 * i, len), "[%s] batch frame %d", tier, i);
    }
    key_index[5] = 3;
    rc = alt_frames_build_batch(fr, N, keys, keys, 3, key_index, out, 128, lens, &failed);
    CHECK(rc == ALT_EINVAL && failed == 5, "[%s] key index out of range", tier);
}

/* The template path patches what changes per block; it must equal building each frame on its own. */
static void ibr_batch_equals_single(const char *tier)
{
    enum { N = 150, SIZE = 30 };
    uint8_t data[N * 33], keys[4 * 16], out[N * 128], one[128];
    uint32_t offsets[N], counters[N];
    uint8_t seqs[N];
    int64_t key_index[N];
    for (int i = 0; i < N * 33; i++)
        data[i] = (uint8_t)(i * 13);
    for (int i = 0; i < 64; i++)
        keys[i] = (uint8_t)(i * 29 + 1);
    for (int i = 0; i < N; i++) {
        offsets[i] = (uint32_t)(i * SIZE);
        counters[i] = 70000u + (uint32_t)i * 3;
        seqs[i] = (uint8_t)(i * 7);
        key_index[i] = (i * 5) % 3;
    }
    for (int bridge = 0; bridge < 2; bridge++) {
        alt_frames_frame t = image_block_response(NULL, 0, 0, bridge);
        alt_frames_ibr_batch b = {.tmpl = &t, .n = N, .data = data, .data_len = SIZE, .data_stride = 33,
                                  .offsets = offsets, .counters = counters, .seqs = seqs, .mac_keys = keys,
                                  .nwk_keys = keys + 16, .key_count = 3, .key_index = key_index, .out = out,
                                  .stride = 128};
        size_t len = 0;
        int rc = alt_frames_build_ibr_batch(&b, &len);
        CHECK(rc == ALT_OK, "[%s] ibr batch rc %d", tier, rc);
        for (int i = 0; i < N; i++) {
            alt_frames_frame f = image_block_response(data + 33 * i, SIZE, counters[i], bridge);
            f.mac.seq = f.nwk.seq = f.aps.counter = f.zcl.seq = seqs[i];
            f.ota.file_offset = offsets[i];
            size_t n1 = 0;
            const uint8_t *k = keys + 16 * key_index[i];
            alt_frames_build(&f, k, k + 16, NULL, one, sizeof one, &n1);
            CHECK(n1 == len && !memcmp(one, out + 128 * i, len), "[%s] ibr frame %d (bridge %d)", tier, i, bridge);
        }
        key_index[7] = 3;
        CHECK(alt_frames_build_ibr_batch(&b, &len) == ALT_EINVAL, "[%s] key index out of range", tier);
        key_index[7] = 0;
        b.stride = 60;
        CHECK(alt_frames_build_ibr_batch(&b, &len) == ALT_ERANGE, "[%s] stride too small", tier);
    }
}

/* The batch parser must say exactly what the single-frame parser says, frame by frame: good frames of both
 * links, a bad FCS, a forged NWK MIC, a forged MAC MIC, truncations, frames without a key. */
static void parse_batch_equals_single(const char *tier)
{
    enum { N = 300 };
    uint8_t data[64], *psdus = calloc(N, 128), *clear = calloc(N, ALT_FRAMES_MAX_PSDU), one[ALT_FRAMES_MAX_PSDU];
    uint16_t lens[N];
    int rcs[N];
    alt_frames_frame *fr = calloc(N, sizeof *fr), g;
    alt_frames_status *st = calloc(N, sizeof *st), sg;
    for (int i = 0; i < 64; i++)
        data[i] = (uint8_t)(i * 5);
    for (int i = 0; i < N; i++) {
        bool bridge = i % 3 == 0;
        alt_frames_frame f = image_block_response(data, (uint8_t)(bridge ? 20 + i % 10 : 30 + i % 20), 100u + i, bridge);
        size_t len = 0;
        alt_frames_build(&f, annex_key, nwk_key, NULL, psdus + 128 * i, 128, &len);
        uint8_t *p = psdus + 128 * i;
        switch (i % 11) {
        case 1: p[len - 5] ^= 1; break;                               /* bad FCS */
        case 2: p[len - 5] ^= 1; with_fcs(p, len - 2); break;         /* forged inner MIC */
        case 3: len = 3 + (size_t)(i % 40); with_fcs(p, len - 2); break;  /* truncated */
        case 4: p[20] ^= 0x40; with_fcs(p, len - 2); break;           /* a header bit flipped */
        default: break;
        }
        lens[i] = (uint16_t)len;
    }
    alt_frames_keys keys[2] = {{.mac_key = annex_key, .nwk_key = nwk_key}, {.nwk_key = nwk_key}};
    for (int k = 0; k < 2; k++) {
        alt_frames_rx_batch b = {.n = N, .psdus = psdus, .stride = 128, .lens = lens, .check_fcs = true,
                                 .keys = &keys[k], .clear = clear, .frames = fr, .status = st, .rc = rcs};
        int rc = alt_frames_parse_batch(&b);
        CHECK(rc == ALT_OK, "[%s] parse batch rc %d", tier, rc);
        int seen[4][4] = {{0}};   /* [mac_sec][nwk_sec]: the mix must hold every outcome */
        for (int i = 0; i < N; i++)
            seen[st[i].mac_sec][st[i].nwk_sec]++;
        CHECK(seen[0][1] && seen[0][3] && (k ? seen[2][0] != 0 : seen[1][1] && seen[1][0] + seen[3][0] > 0),
              "[%s] the batch does not cover every outcome", tier);
        for (int i = 0; i < N; i++) {
            int want = alt_frames_parse(psdus + 128 * i, lens[i], true, &keys[k], one, &g, &sg);
            CHECK(rcs[i] == want, "[%s] frame %d: batch rc %d, single %d", tier, i, rcs[i], want);
            CHECK(st[i].fcs_ok == sg.fcs_ok && st[i].mac_sec == sg.mac_sec && st[i].nwk_sec == sg.nwk_sec &&
                      st[i].aps_sec == sg.aps_sec && st[i].error == sg.error,
                  "[%s] frame %d status", tier, i);
            CHECK(fr[i].has_ota == g.has_ota && fr[i].payload_len == g.payload_len &&
                      (!g.payload_len || !memcmp(fr[i].payload, g.payload, g.payload_len)) &&
                      fr[i].nwk.frame_counter == g.nwk.frame_counter,
                  "[%s] frame %d description", tier, i);
            if (g.has_ota && g.ota.data_size)
                CHECK(!memcmp(fr[i].ota.data, g.ota.data, g.ota.data_size), "[%s] frame %d data", tier, i);
        }
    }
    free(psdus);
    free(clear);
    free(fr);
    free(st);
}

/* Random bytes (half with a correct FCS, many shaped like secured ZigBee data frames) through both parsers:
 * the same verdicts, and nothing read or written out of bounds (ASan). */
static void random_frames(const char *tier)
{
    enum { N = 1500 };
    uint8_t *psdus = malloc(N * 128), *clear = malloc(N * ALT_FRAMES_MAX_PSDU), one[ALT_FRAMES_MAX_PSDU];
    uint16_t lens[N];
    int rcs[N];
    alt_frames_frame *fr = malloc(N * sizeof *fr), g;
    alt_frames_status *st = malloc(N * sizeof *st), sg;
    uint32_t x = 12345;
    for (int i = 0; i < N; i++) {
        uint8_t *p = psdus + 128 * i;
        for (int j = 0; j < 128; j++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            p[j] = (uint8_t)x;
        }
        size_t len = x % 128;
        if (i % 4 == 0 && len >= 12) {   /* a data frame, short addresses, ZigBee PRO NWK with security */
            p[0] = 0x41 | (uint8_t)(i & 8);
            p[1] = 0x88;
            p[9] = 0x08;
            p[10] = 0x02 | (uint8_t)(i & 0x10);
        }
        if (i % 2 == 0 && len >= 2)
            with_fcs(p, len - 2);
        lens[i] = (uint16_t)len;
    }
    alt_frames_keys keys = {.mac_key = annex_key, .nwk_key = nwk_key, .aps_key = nwk_key, .has_mac_nonce_src = true};
    alt_frames_rx_batch b = {.n = N, .psdus = psdus, .stride = 128, .lens = lens, .check_fcs = true, .keys = &keys,
                             .clear = clear, .frames = fr, .status = st, .rc = rcs};
    CHECK(alt_frames_parse_batch(&b) == ALT_OK, "[%s] random batch", tier);
    int decrypted = 0;
    for (int i = 0; i < N; i++) {
        int want = alt_frames_parse(psdus + 128 * i, lens[i], true, &keys, one, &g, &sg);
        CHECK(rcs[i] == want && st[i].nwk_sec == sg.nwk_sec && st[i].mac_sec == sg.mac_sec,
              "[%s] random frame %d: batch %d single %d", tier, i, rcs[i], want);
        decrypted += sg.nwk_sec == ALT_FRAMES_SEC_BAD_MIC;
    }
    CHECK(decrypted > 0, "[%s] no random frame reached NWK decryption", tier);
    free(psdus);
    free(clear);
    free(fr);
    free(st);
}

static void replay_window(void)
{
    uint32_t last = 0;
    bool seen = false;
    CHECK(alt_frames_counter_accept(&last, &seen, 0), "first counter 0 refused");
    CHECK(!alt_frames_counter_accept(&last, &seen, 0), "repeated counter accepted");
    CHECK(alt_frames_counter_accept(&last, &seen, 7) && !alt_frames_counter_accept(&last, &seen, 6),
          "older counter accepted");
    CHECK(alt_frames_counter_accept(&last, &seen, UINT32_MAX) && !alt_frames_counter_accept(&last, &seen, 8),
          "counter after the largest accepted");
}

int main(void)
{
    replay_window();
    for (int i = 0; i < 16; i++)
        annex_key[i] = (uint8_t)(0xc0 + i);
    for (int a = 0; a < alt_tiers_count(ALT_FAMILY_AES); a++) {
        for (int c = 0; c < alt_tiers_count(ALT_FAMILY_CRC); c++) {
            alt_tiers_set(ALT_FAMILY_AES, a);
            alt_tiers_set(ALT_FAMILY_CRC, c);
            char tier[64];
            snprintf(tier, sizeof tier, "%s/%s", alt_tiers_name(ALT_FAMILY_AES, a), alt_tiers_name(ALT_FAMILY_CRC, c));
            annex_c(tier, "69DC842143020000000048DEAC010000000048DEAC0405000000 D43E022B", "61626364",
                    "data frame, level 4");
            annex_c(tier, "2BDC842143020000000048DEACFFFF010000000048DEAC0605000000 01 D8 4FDE529061F9C6F1",
                    "CE", "command frame, level 6");
            annex_c(tier, "08D0842143010000000048DEAC0205000000 55CF000051525354 223BC1EC841AB553",
                    "55CF000051525354", "beacon, level 2");
            zigbee_round_trip(tier, false);
            zigbee_round_trip(tier, true);
            batch_equals_single(tier);
            ibr_batch_equals_single(tier);
            parse_batch_equals_single(tier);
            random_frames(tier);
        }
    }
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("frames: all tests passed\n");
    return failures != 0;
}
