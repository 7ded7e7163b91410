/* The emulator's byte pass in C, on every AES, CRC and SHA-256 tier: every corrupted frame is rejected and
 * every device that got its blocks holds the image (SHA-256 checked here against alt_sha256 of the image);
 * a corrupted CH copy always ends as a hash failure; results do not depend on threads or tiers; exported
 * frames parse with the device key and carry the image bytes at their offset; the batch receiver agrees with
 * alt_frames_parse on forged frames; every corrupted frame sits where its device's lost-exchange run says, and
 * runs that disagree with the counts are refused; the timing engine's log orders runs by device; bad parameters
 * are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aes.h"
#include "crc.h"
#include "emu.h"
#include "emu_bytes.h"
#include "emu_lost.h"
#include "frames.h"
#include "sha256.h"
#include "tiers.h"

#include "check.h"

enum { UNITS = 7, ROWS = 2 * UNITS, IMAGE = 10007, BLOCK = 50, BLOCKS = (IMAGE + BLOCK - 1) / BLOCK };

static uint8_t image[IMAGE];
static uint64_t installation[UNITS] = {0, 1, 2, 3, 1000, 77, 5};
/* per device: timing outcome, exchanges, repeats */
static uint8_t outcome[ROWS] = {ALT_EMU_COMPLETED, ALT_EMU_COMPLETED, ALT_EMU_ABORTED, ALT_EMU_COMPLETED,
                                ALT_EMU_WAN_FAILED, ALT_EMU_WAN_FAILED, ALT_EMU_NOT_REQUESTED, ALT_EMU_TIMEOUT,
                                ALT_EMU_ACTIVATION_FAILED, ALT_EMU_COMPLETED, ALT_EMU_TIMEOUT, ALT_EMU_COMPLETED,
                                ALT_EMU_COMPLETED, ALT_EMU_COMPLETED};
static uint32_t exchanges[ROWS], retries[ROWS];
static double han_per[UNITS] = {0.02, 0.3, 0.0, 0.1, 0.02, 0.05, 0.5};
static double bridge_per[UNITS] = {0.1, 0.3, 0.2, 0.1, 0.02, 0.05, 0.9};

typedef struct outputs {
    uint32_t built[ROWS], fcs[ROWS], mic[ROWS], undetected[ROWS];
    uint8_t hash_ok[ROWS], corrupted[ROWS];
} outputs;

static void setup_runs(uint64_t blocks);

static void setup_timing(void)
{
    for (int i = 0; i < ROWS; i++) {
        int o = outcome[i];
        uint32_t rep = (uint32_t)(i * 37 % 200);
        uint32_t ok = o == ALT_EMU_COMPLETED || o == ALT_EMU_ACTIVATION_FAILED ? BLOCKS + 1
                    : o == ALT_EMU_ABORTED ? 93 : o == ALT_EMU_TIMEOUT ? (i == 10 ? 0 : 150) : 0;
        if (o == ALT_EMU_WAN_FAILED || o == ALT_EMU_NOT_REQUESTED)
            rep = 0;
        exchanges[i] = ok + rep;
        retries[i] = rep;
    }
    retries[12] = 0;                 /* a loss-free download */
    exchanges[12] = BLOCKS + 1;
    setup_runs(BLOCKS);
}

/* Where the devices lost their exchanges (emu_lost.h), as a timing run logs them for an image of `blocks`
 * blocks: up to 20 runs spread over the blocks delivered, and an aborted download's final 10 at the block it
 * gave up on. */
static uint64_t lost_first[ROWS + 1];
static uint32_t lost_runs[2 * ROWS * 21];

static void setup_runs(uint64_t blocks)
{
    uint64_t k = 0;
    for (int i = 0; i < ROWS; i++) {
        lost_first[i] = k;
        int o = outcome[i];
        uint32_t rep = retries[i];
        if (o == ALT_EMU_WAN_FAILED || o == ALT_EMU_NOT_REQUESTED || rep == 0)
            continue;
        uint64_t successes = exchanges[i] - rep, delivered = successes < blocks ? successes : blocks;
        uint32_t final = o == ALT_EMU_ABORTED ? (delivered == 0 || rep < 10 ? rep : 10) : 0, spread = rep - final;
        uint64_t slots = delivered + (final ? 0 : 1);          /* an aborted download's last slot is its final run's */
        uint64_t runs = spread < slots ? spread : slots;
        runs = runs < 20 ? runs : 20;
        for (uint64_t j = 0; j < runs; j++) {
            lost_runs[2 * k] = (uint32_t)(j * slots / runs);
            lost_runs[2 * k + 1] = spread / (uint32_t)runs + (j < spread % runs);
            k++;
        }
        if (final) {
            lost_runs[2 * k] = (uint32_t)delivered;
            lost_runs[2 * k + 1] = final;
            k++;
        }
    }
    lost_first[ROWS] = k;
}

static alt_emu_bytes_timing timing(void)
{
    return (alt_emu_bytes_timing){installation, outcome, exchanges, retries, han_per, bridge_per, lost_first,
                                  lost_runs};
}

static alt_emu_bytes_outputs out_of(outputs *o)
{
    return (alt_emu_bytes_outputs){o->built, o->fcs, o->mic, o->undetected, o->hash_ok, o->corrupted};
}

static alt_emu_bytes_params params(double corrupt, double ber)
{
    alt_emu_bytes_params p = {.image = image, .image_size = IMAGE, .block_size = BLOCK, .seed = 42,
                              .corrupt_image_prob = corrupt, .corrupt_bytes = 3, .ber = ber};
    alt_sha256(image, IMAGE, p.expected_hash);
    return p;
}

static int run(const alt_emu_bytes_params *p, outputs *o, int threads)
{
    alt_emu_bytes_timing in = timing();
    alt_emu_bytes_outputs out = out_of(o);
    memset(o, 0xEE, sizeof *o);
    return alt_emu_bytes_run(p, &in, UNITS, &out, threads, NULL);
}

static void check_clean(const outputs *o, const char *what)
{
    for (int i = 0; i < ROWS; i++) {
        int o_ = outcome[i];
        int started = o_ != ALT_EMU_WAN_FAILED && o_ != ALT_EMU_NOT_REQUESTED;
        uint32_t successes = started ? exchanges[i] - retries[i] : 0;
        uint32_t delivered = successes < BLOCKS ? successes : BLOCKS;
        CHECK(o->built[i] == delivered + retries[i], "%s row %d: %u frames built, expected %u", what, i,
              o->built[i], delivered + retries[i]);
        CHECK(o->fcs[i] + o->mic[i] == retries[i], "%s row %d: %u + %u rejected of %u corrupted", what, i,
              o->fcs[i], o->mic[i], retries[i]);
        CHECK(o->undetected[i] == 0, "%s row %d: %u undetected errors", what, i, o->undetected[i]);
        CHECK(o->hash_ok[i] == (delivered == BLOCKS), "%s row %d: hash_ok %d with %u of %d blocks", what, i,
              o->hash_ok[i], delivered, BLOCKS);
    }
}

static void check_frames(const alt_emu_bytes_params *p)
{
    alt_emu_bytes_timing in = timing();
    enum { CAP = 400 };
    static uint8_t frames[CAP * 128];
    uint16_t lens[CAP];
    uint8_t corrupted[CAP];
    uint32_t offsets[CAP];
    size_t rows[] = {1, 3, 9};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        size_t row = rows[r], count = 0;
        int rc = alt_emu_bytes_device_frames(p, &in, row, 0, CAP, frames, 128, lens, corrupted, offsets, &count);
        CHECK(rc == ALT_OK && count > 0, "device_frames row %zu: rc %d, %zu frames", row, rc, count);
        uint8_t key[16];
        alt_emu_bytes_device_key(p->seed, installation[row / 2], (int)(row & 1), key);
        alt_frames_keys keys = {.nwk_key = key, .zigbee_level = 5};
        uint32_t last = 0;
        for (size_t i = 0; i < count; i++) {
            uint8_t *psdu = malloc(lens[i]);       /* exact size: ASan sees any over-read */
            memcpy(psdu, frames + i * 128, lens[i]);
            uint8_t clear[ALT_FRAMES_MAX_PSDU];
            alt_frames_frame f;
            alt_frames_status st;
            rc = alt_frames_parse(psdu, lens[i], true, &keys, clear, &f, &st);
            free(psdu);
            if (corrupted[i]) {
                CHECK(rc != ALT_OK, "row %zu frame %zu: a corrupted frame parsed", row, i);
                /* a repeat goes before the delivery of its block (or after the last one, at the block given up on) */
                CHECK(offsets[i] % BLOCK == 0 && offsets[i] < IMAGE && (i + 1 == count || offsets[i + 1] == offsets[i]),
                      "row %zu frame %zu: repeat of offset %u", row, i, offsets[i]);
                continue;
            }
            CHECK(rc == ALT_OK && f.has_ota, "row %zu frame %zu: rc %d (%s)", row, i, rc,
                  st.error ? st.error : "-");
            if (rc != ALT_OK)
                continue;
            CHECK(f.ota.file_offset == offsets[i], "row %zu frame %zu: offset %u reported as %u", row, i,
                  f.ota.file_offset, offsets[i]);
            CHECK(f.nwk.frame_counter == i + 1 && f.nwk.frame_counter > last, "row %zu frame %zu: counter %u",
                  row, i, f.nwk.frame_counter);
            last = f.nwk.frame_counter;
            CHECK(f.ota.file_offset % BLOCK == 0 && f.ota.file_offset + f.ota.data_size <= IMAGE &&
                  memcmp(f.ota.data, image + f.ota.file_offset, f.ota.data_size) == 0,
                  "row %zu frame %zu: data at offset %u differs from the image", row, i, f.ota.file_offset);
        }
    }
}

static void put_fcs(uint8_t *psdu, size_t len)
{
    uint32_t crc = 0;
    alt_crc_compute(ALT_CRC16_KERMIT, psdu, len - 2, &crc);
    psdu[len - 2] = (uint8_t)crc;
    psdu[len - 1] = (uint8_t)(crc >> 8);
}

/* The batch receiver against alt_frames_parse: clean frames pass, replays do not, and frames changed with a
 * recomputed FCS (what no bit error rate produces often enough to test) pass only when the change is in the
 * MAC sequence number, the one unauthenticated field the client does not check. */
static void check_receiver(const alt_emu_bytes_params *p)
{
    alt_emu_bytes_timing in = timing();
    enum { N = 200 };
    static uint8_t frames[N * 128], twice[2 * 20 * 128];
    uint16_t lens[N], lens2[40];
    uint8_t corrupted[N], verdict[N];
    size_t row = 12, count = 0;        /* unit 6 hub-side: no repeats */
    CHECK(alt_emu_bytes_device_frames(p, &in, row, 0, N, frames, 128, lens, corrupted, NULL, &count) == ALT_OK &&
          count == N, "device_frames for the receiver: %zu frames", count);
    CHECK(alt_emu_bytes_receive(p, installation[row / 2], 0, frames, N, 128, lens, verdict) == ALT_OK,
          "receive failed");
    for (size_t i = 0; i < N; i++)
        CHECK(verdict[i] == ALT_EMU_BYTES_ACCEPTED, "clean frame %zu: verdict %d", i, verdict[i]);
    memcpy(twice, frames, 20 * 128);
    memcpy(twice + 20 * 128, frames, 20 * 128);
    memcpy(lens2, lens, 20 * sizeof lens[0]);
    memcpy(lens2 + 20, lens, 20 * sizeof lens[0]);
    alt_emu_bytes_receive(p, installation[row / 2], 0, twice, 40, 128, lens2, verdict);
    for (size_t i = 0; i < 40; i++)
        CHECK(verdict[i] == (i < 20 ? ALT_EMU_BYTES_ACCEPTED : ALT_EMU_BYTES_BAD_PAYLOAD),
              "replayed frame %zu: verdict %d", i, verdict[i]);
    CHECK(alt_emu_bytes_receive(p, installation[row / 2], 1, frames, 1, 128, lens, verdict) == ALT_OK &&
          verdict[0] != ALT_EMU_BYTES_ACCEPTED, "the other side's key took the frame");

    uint8_t key[16];
    alt_emu_bytes_device_key(p->seed, installation[row / 2], 0, key);
    alt_frames_keys keys = {.nwk_key = key, .zigbee_level = 5};
    uint64_t x = 12345;
    for (int trial = 0; trial < 400; trial++) {
        size_t i = (size_t)trial % N, len = lens[i];
        uint8_t psdu[128];
        memcpy(psdu, frames + i * 128, len);
        int flips = 1 + trial % 3, only_seq = 1, only_unchecked = 1;
        for (int f = 0; f < flips; f++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            size_t byte = trial < 40 ? (size_t)(trial % 9) : (size_t)(x >> 33) % (len - 2);
            unsigned bit = (unsigned)(x >> 20) & 7;
            psdu[byte] ^= (uint8_t)(1u << bit);
            only_seq &= byte == 2;
            /* the parser does not authenticate the MAC header, and puts the level bits of the NWK security
             * control byte (17) back itself, as ZigBee receivers do; this client takes neither changed */
            only_unchecked &= byte < 9 || (byte == 17 && bit < 3);
        }
        if (memcmp(psdu, frames + i * 128, len) == 0)
            continue;                      /* two flips undid each other */
        put_fcs(psdu, len);
        uint16_t l = (uint16_t)len;
        alt_emu_bytes_receive(p, installation[row / 2], 0, psdu, 1, 128, &l, verdict);
        uint8_t clear[ALT_FRAMES_MAX_PSDU];
        alt_frames_frame fr;
        alt_frames_status st;
        /* taken: well-formed, NWK-secured under the key (a mangled MAC header can make the rest read as an
         * unsecured frame, which parses but no OTA client accepts), an OTA command */
        int parsed_ok = alt_frames_parse(psdu, len, true, &keys, clear, &fr, &st) == ALT_OK &&
                        st.nwk_sec == ALT_FRAMES_SEC_OK && fr.has_ota;
        CHECK((verdict[0] == ALT_EMU_BYTES_ACCEPTED) == only_seq, "trial %d: verdict %d, flips only in the MAC "
              "sequence number: %d", trial, verdict[0], only_seq);
        CHECK(!parsed_ok || only_unchecked, "trial %d: the parser took a frame changed where it checks", trial);
        CHECK(verdict[0] != ALT_EMU_BYTES_BAD_FCS, "trial %d: the recomputed FCS was refused", trial);
    }
}

/* A 2-byte image (one short block): corrupting "3 bytes" changes both, and still fails every hash. */
static void check_tiny_image(void)
{
    static const uint8_t tiny[2] = {0xAB, 0xCD};
    alt_emu_bytes_params p = {.image = tiny, .image_size = 2, .block_size = BLOCK, .seed = 1,
                              .corrupt_image_prob = 1.0, .corrupt_bytes = 3};
    alt_sha256(tiny, 2, p.expected_hash);
    setup_runs(1);
    alt_emu_bytes_timing in = timing();
    outputs o;
    alt_emu_bytes_outputs out = out_of(&o);
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, &out, 2, NULL) == ALT_OK, "tiny image: run failed");
    for (int i = 0; i < ROWS; i++)
        CHECK(o.hash_ok[i] == 0 && o.corrupted[i] == 1, "tiny image row %d: hash_ok %d", i, o.hash_ok[i]);
    p.corrupt_image_prob = 0.0;
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, &out, 2, NULL) == ALT_OK, "tiny image: clean run failed");
    for (int i = 0; i < ROWS; i++) {
        int started = outcome[i] != ALT_EMU_WAN_FAILED && outcome[i] != ALT_EMU_NOT_REQUESTED;
        CHECK(o.hash_ok[i] == (started && exchanges[i] > retries[i]), "tiny image row %d: hash_ok %d", i,
              o.hash_ok[i]);
        CHECK(o.fcs[i] + o.mic[i] == retries[i] && o.undetected[i] == 0, "tiny image row %d: rejections", i);
    }
    setup_runs(BLOCKS);
}

/* The aborted download (row 2) ends with its final run of 10 failed exchanges, all corrupted frames. */
static void check_abort_tail(const alt_emu_bytes_params *p)
{
    alt_emu_bytes_timing in = timing();
    static uint8_t frames[400 * 128];
    uint16_t lens[400];
    uint8_t corrupted[400];
    size_t count = 0;
    alt_emu_bytes_device_frames(p, &in, 2, 0, 400, frames, 128, lens, corrupted, NULL, &count);
    CHECK(count == exchanges[2], "aborted row: %zu frames for %u exchanges", count, exchanges[2]);
    size_t tail = 0;
    while (tail < count && corrupted[count - 1 - tail])
        tail++;
    CHECK(tail >= 10 && tail < 15, "aborted row: the last %zu frames corrupted, expected the final 10", tail);
}

/* Each corrupted frame sits where its run says: row 1's k-th run of c repeats at slot b gives c corrupted
 * frames of block b right before the delivery of block b. */
static void check_run_positions(const alt_emu_bytes_params *p)
{
    alt_emu_bytes_timing in = timing();
    enum { CAP = 500 };
    static uint8_t frames[CAP * 128];
    uint16_t lens[CAP];
    uint8_t corrupted[CAP];
    uint32_t offsets[CAP];
    for (size_t row = 0; row < ROWS; row++) {
        size_t count = 0;
        CHECK(alt_emu_bytes_device_frames(p, &in, row, 0, CAP, frames, 128, lens, corrupted, offsets, &count) ==
              ALT_OK, "row %zu: device_frames failed", row);
        /* replay the runs: slot by slot, the run's repeats then the delivery */
        size_t f = 0;
        uint64_t next_run = lost_first[row], delivered = 0;
        for (size_t i = 0; i < count; i++)
            delivered += !corrupted[i];
        for (uint64_t slot = 0; slot <= delivered && f <= count; slot++) {
            if (next_run < lost_first[row + 1] && lost_runs[2 * next_run] == slot) {
                uint64_t block = slot < BLOCKS ? slot : BLOCKS - 1;
                for (uint32_t c = 0; c < lost_runs[2 * next_run + 1]; c++, f++)
                    CHECK(f < count && corrupted[f] && offsets[f] == block * BLOCK,
                          "row %zu frame %zu: expected a repeat of block %llu", row, f, (unsigned long long)block);
                next_run++;
            }
            if (slot < delivered) {
                CHECK(f < count && !corrupted[f] && offsets[f] == slot * BLOCK,
                      "row %zu frame %zu: expected the delivery of block %llu", row, f, (unsigned long long)slot);
                f++;
            }
        }
        CHECK(f == count && next_run == lost_first[row + 1], "row %zu: %zu of %zu frames placed, runs left %d",
              row, f, count, (int)(lost_first[row + 1] - next_run));
    }
}

/* Runs that are not what a timing run logs for the device's counts are refused. */
static void check_bad_runs(const alt_emu_bytes_params *p)
{
    outputs o;
    alt_emu_bytes_outputs out = out_of(&o);
    uint64_t row = 1, at = 2 * lost_first[row];
    CHECK(lost_first[row + 1] - lost_first[row] >= 2, "row 1 needs two runs for this check");
    alt_emu_bytes_timing in = timing();
    lost_runs[at + 1]++;                                   /* one repeat more than the device counted */
    CHECK(alt_emu_bytes_run(p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "a run count off by one accepted");
    lost_runs[at + 1]--;
    uint32_t slot = lost_runs[at + 2];
    lost_runs[at + 2] = lost_runs[at];                     /* two runs at one slot */
    CHECK(alt_emu_bytes_run(p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "a repeated slot accepted");
    lost_runs[at + 2] = slot;
    uint64_t end = lost_first[row + 1] - 1;
    slot = lost_runs[2 * end];
    lost_runs[2 * end] = BLOCKS + 7;                       /* beyond the blocks the device reached */
    CHECK(alt_emu_bytes_run(p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "a slot beyond the download accepted");
    lost_runs[2 * end] = slot;
    in.lost_first = NULL;
    CHECK(alt_emu_bytes_run(p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "no lost runs accepted");
    CHECK(run(p, &o, 1) == ALT_OK, "the restored runs refused");
}

/* The log the timing engine writes: runs appended in any order of devices come out by device, each device's
 * in the order it appended them; rows out of range are refused. */
static void check_lost_log(void)
{
    alt_emu_lost_log *log = alt_emu_lost_log_new(4);
    CHECK(log != NULL, "lost log: no memory");
    static const uint32_t appended[][3] = {{2, 5, 1}, {0, 0, 3}, {2, 9, 2}, {3, 1, 1}, {0, 4, 10}, {2, 11, 1}};
    for (size_t i = 0; i < sizeof appended / sizeof appended[0]; i++)
        alt_emu_lost_log_append(log, appended[i][0], appended[i][1], appended[i][2]);
    uint64_t first[5];
    uint32_t runs[12];
    CHECK(alt_emu_lost_log_runs(log) == 6 && alt_emu_lost_log_finish(log, first, runs) == ALT_OK,
          "lost log: finish failed");
    static const uint64_t want_first[5] = {0, 2, 2, 5, 6};
    static const uint32_t want_runs[12] = {0, 3, 4, 10, 5, 1, 9, 2, 11, 1, 1, 1};
    CHECK(memcmp(first, want_first, sizeof first) == 0 && memcmp(runs, want_runs, sizeof runs) == 0,
          "lost log: runs not ordered by device");
    alt_emu_lost_log_append(log, 4, 0, 1);
    CHECK(alt_emu_lost_log_finish(log, first, runs) == ALT_EINVAL, "lost log: a row out of range accepted");
    alt_emu_lost_log_free(log);
}

static void check_errors(void)
{
    alt_emu_bytes_timing in = timing();
    outputs o;
    alt_emu_bytes_outputs out = out_of(&o);
    alt_emu_bytes_params p = params(0.0, 0.0);
    p.block_size = 66;
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "block_size 66 accepted");
    p = params(1.5, 0.0);
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "corrupt_image_prob 1.5 accepted");
    p = params(0.0, 0.2);
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "ber 0.2 accepted");
    p = params(0.0, 0.0);
    p.corrupt_bytes = 0;
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "corrupt_bytes 0 accepted");
    p.corrupt_bytes = 65;
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "corrupt_bytes 65 accepted");
    p = params(0.0, 0.0);
    p.image = NULL;
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, &out, 1, NULL) == ALT_EINVAL, "no image accepted");
    p = params(0.0, 0.0);
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, &out, 0, NULL) == ALT_EINVAL, "0 threads accepted");
    CHECK(alt_emu_bytes_run(&p, &in, UNITS, NULL, 1, NULL) == ALT_EINVAL, "no outputs accepted");
}

int main(void)
{
    for (int i = 0; i < IMAGE; i++)
        image[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + 3);
    setup_timing();
    outputs reference, o;
    alt_emu_bytes_params clean = params(0.0, 0.0), noisy = params(0.0, 0.1), bad = params(1.0, 0.0);
    for (int a = 0; a < alt_tiers_count(ALT_FAMILY_AES); a++)
        for (int c = 0; c < alt_tiers_count(ALT_FAMILY_CRC); c++) {
            alt_tiers_set(ALT_FAMILY_AES, a);
            alt_tiers_set(ALT_FAMILY_CRC, c);
            int sha_tiers = alt_tiers_count(ALT_FAMILY_SHA256);
            alt_tiers_set(ALT_FAMILY_SHA256, c < sha_tiers ? c : sha_tiers - 1);
            char what[80];
            snprintf(what, sizeof what, "aes %s crc %s", alt_tiers_name(ALT_FAMILY_AES, a),
                     alt_tiers_name(ALT_FAMILY_CRC, c));
            CHECK(run(&clean, &o, 1) == ALT_OK, "%s: run failed", what);
            check_clean(&o, what);
            if (a == 0 && c == 0)
                reference = o;
            CHECK(memcmp(&o, &reference, sizeof o) == 0, "%s: results differ from the portable tiers", what);
            for (int threads = 2; threads <= 5; threads += 3) {
                outputs t;
                CHECK(run(&clean, &t, threads) == ALT_OK && memcmp(&t, &o, sizeof o) == 0,
                      "%s: %d threads differ from one", what, threads);
            }
            CHECK(run(&noisy, &o, 2) == ALT_OK, "%s: noisy run failed", what);
            check_clean(&o, "ber 0.1");
            CHECK(run(&bad, &o, 2) == ALT_OK, "%s: corrupt run failed", what);
            for (int i = 0; i < ROWS; i++)
                CHECK(o.hash_ok[i] == 0 && o.corrupted[i] == 1, "%s row %d: a corrupted copy passed its hash",
                      what, i);
            check_frames(&clean);
            check_frames(&noisy);
            check_receiver(&clean);
        }
    check_tiny_image();
    check_abort_tail(&clean);
    check_run_positions(&clean);
    check_bad_runs(&clean);
    check_lost_log();
    check_errors();
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("emu_bytes: ok\n");
    return failures != 0;
}
