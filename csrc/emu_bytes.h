/* The emulator's "bytes" fidelity: a byte-level pass over the exchanges a timing run counted.
 *
 * The timing engine (emu.h) decides when things happen and, per device, how many OTA exchanges it started and
 * how many of them were repeated. This pass then sends, for every block exchange of every device, a real ZigBee
 * OTA Image Block Response (frames.h: 802.15.4 MAC, NWK secured with AES-CCM* MIC-4 under the device's key
 * and an increasing frame counter, APS, ZCL) carrying the image bytes at its file offset, with its FCS
 * (CRC-16/KERMIT). Frames of repeated exchanges get bit errors; the receiver checks the FCS and the MIC of
 * every frame, writes the data of the frames it accepts at their offset into the device's reassembly buffer,
 * and finally compares SHA-256 of the reassembled image with the expected hash.
 *
 * Which exchanges were repeated: exactly those the timing run lost, at their block. The timing run logs, per
 * device, runs (slot, count): count exchanges that did not deliver (lost, or cut by an outage) while the device
 * was asking for block `slot` (emu_lost.h); the byte pass sends, for each slot b from 0 on, the repeats of b's
 * run (the response for that block, corrupted) and then the delivery of block b. So a device's k-th frame is
 * its k-th block exchange, the frame of a lost exchange sits at that exchange's place, and an aborted download's
 * final run of failures is at the block it gave up on. A lost Upgrade End exchange (slot = the number of
 * blocks) carries no image data; as before it is counted as a repeat of the last block, after its delivery.
 *
 * How the byte pass learns the positions (the choice, and why): the timing engine logs the runs only when the
 * bytes fidelity asks for them (alt_emu_outputs.lost), and the byte pass reads them (alt_emu_bytes_timing
 * lost_first / lost_runs). Alternatives considered:
 *   - re-deriving the pattern in the byte pass from the same seeded streams: no memory at all, but it means
 *     re-running the timing engine inside the byte pass (with shared air, whole buildings: the losses depend
 *     on the neighbours' frames), coupling the two passes' parameters and threading;
 *   - running the byte pass per chunk right after the chunk's timing: bounded by the chunk, but it splits the
 *     two passes (progress, buildings that must not be split, the result's device_frames() needing the lists
 *     afterwards anyway).
 * The log costs 8 bytes per run and 8 bytes per device (while the engine runs, 16 bytes per run in 1 MiB
 * segments): runs are rare, as lost exchanges are (0.46 per device on the defaults), so the national fleet
 * (4,000,000 devices) needs about 32 MB of index and some 16 MB of runs. The cost grows with the runs, at most
 * one per block a device asked for: a fleet losing one exchange in a thousand (ten times the defaults' rate)
 * needs about 150 MB (some 500 MB at the peak, while the engine's segments and the ordered copy coexist), well
 * under the 2 GB budget; only a fleet losing a large share of its exchanges would go past it, and that fleet's
 * byte pass builds that many frames too. The engine appends a device's run only when it moves to another
 * block, so delivered exchanges cost nothing.
 *
 * Randomness (Philox, rng.h, keyed by (seed, installation), so nothing depends on threads):
 *   stream ALT_EMU_BYTES_STREAM_KEY + side      the device's 128-bit NWK key: the stream's first two words,
 *                                               little-endian
 *   stream ALT_EMU_BYTES_STREAM_IMAGE           whether the CH's copy is corrupted, then where and how
 *   stream ALT_EMU_BYTES_STREAM_ERRORS + side   bit errors of the device's corrupted frames, in frame order
 * Bit errors: a corrupted frame of N bits gets K >= 1 flipped bits, K ~ Binomial(N, ber) conditioned on
 * K >= 1, at K distinct uniform positions. ber is the parameter's, or (ber = 0) the installation's own:
 * the one that makes an N-bit frame of the device's path fail with the path's PER (hub-side: the HAN PER;
 * meter-side: 1 - (1 - han)(1 - bridge)), 1 - (1 - PER)^(1/N).
 * The frame counter of a device's k-th frame (from 0, repeats included) is k + 1.
 */
#ifndef ALT_EMU_BYTES_H
#define ALT_EMU_BYTES_H

#include <stddef.h>
#include <stdint.h>

#include "alt_status.h"
#include "emu.h"     /* alt_emu_control: one stop flag and progress counter for both passes */

#define ALT_EMU_BYTES_STREAM_KEY 0x100
#define ALT_EMU_BYTES_STREAM_IMAGE 0x102
#define ALT_EMU_BYTES_STREAM_ERRORS 0x104

/* The addresses of the frames: the CH (short 0x0000, EUI-64 ALT_EMU_BYTES_CH_EUI64 | installation's low 24
 * bits) sends to the bridge (short ALT_EMU_BYTES_BRIDGE_SHORT + side) on PAN ALT_EMU_BYTES_PAN. */
#define ALT_EMU_BYTES_PAN 0x1A62
#define ALT_EMU_BYTES_BRIDGE_SHORT 0x4C2E
#define ALT_EMU_BYTES_CH_EUI64 UINT64_C(0x00124B0000000000)

typedef struct alt_emu_bytes_params {
    const uint8_t *image;                /* the image the CH serves, image_size bytes */
    uint64_t image_size;
    uint32_t block_size;                 /* data bytes per Image Block Response (1..65) */
    uint8_t expected_hash[32];           /* SHA-256 the device checks the reassembled image against */
    uint64_t seed;
    double corrupt_image_prob;           /* per installation: the CH's copy has corrupt_bytes bytes changed */
    uint32_t corrupt_bytes;              /* 1 .. 64 (a smaller image: all its bytes) */
    double ber;                          /* bit error rate of corrupted frames; 0: from the PERs (above) */
    /* the image's identity, as its OTA header gives it: every Image Block Response carries it and the
     * receiver checks it */
    uint16_t manufacturer, image_type;
    uint32_t file_version;
} alt_emu_bytes_params;

/* What the timing run said about each device (rows 2 * unit + side) and each unit (installation). */
typedef struct alt_emu_bytes_timing {
    const uint64_t *installation;        /* per unit: its installation number (RNG key) */
    const uint8_t *outcome;              /* per device: enum alt_emu_outcome */
    const uint32_t *exchanges, *exchange_retries;
    const double *han_per, *bridge_per;  /* per unit */
    /* where each device lost exchanges (alt_emu_lost_log_finish): device row's (slot, count) runs are
     * lost_runs[2 lost_first[row] .. 2 lost_first[row + 1]); their counts add up to its exchange_retries, their
     * slots increase and are at most the blocks it delivered (a device that never started has none) */
    const uint64_t *lost_first;
    const uint32_t *lost_runs;
} alt_emu_bytes_timing;

typedef struct alt_emu_bytes_outputs {
    uint32_t *frames_built, *frames_rejected_fcs, *frames_rejected_mic, *undetected_errors;
    uint8_t *hash_ok;                    /* 1: the device holds the whole image and its SHA-256 matches */
    uint8_t *image_corrupted;            /* per device: its CH served a corrupted copy */
} alt_emu_bytes_outputs;


/* ALT_OK or ALT_EINVAL. */
int alt_emu_bytes_check(const alt_emu_bytes_params *p);

/* The byte pass over n units on n_threads threads (ctl may be NULL). ALT_OK, ALT_EINVAL (also: a device's
 * lost runs disagree with its counts), ALT_ENOMEM, or ALT_EINTR when stopped. */
int alt_emu_bytes_run(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *in, size_t n,
                      const alt_emu_bytes_outputs *out, int n_threads, alt_emu_control *ctl);

/* The device's NWK key (stream ALT_EMU_BYTES_STREAM_KEY + side). */
void alt_emu_bytes_device_key(uint64_t seed, uint64_t installation, int side, uint8_t key[16]);

/* The frames device `row` (of unit row / 2) is sent, exactly as the run sends them (corruption included),
 * from its frame `first` on: up to cap frames into out (stride bytes each), lengths in lens; *count gets the
 * number written (fewer at the end of the device's frames), corrupted[i] 1 for a corrupted frame, offsets[i]
 * (offsets may be NULL) the file offset the frame carries (before any corruption). */
int alt_emu_bytes_device_frames(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *in, size_t row,
                                uint64_t first, size_t cap, uint8_t *out, size_t stride, uint16_t *lens,
                                uint8_t *corrupted, uint32_t *offsets, size_t *count);

/* What the receiver made of a frame. */
enum alt_emu_bytes_verdict {
    ALT_EMU_BYTES_ACCEPTED = 0,
    ALT_EMU_BYTES_BAD_FCS = 1,
    ALT_EMU_BYTES_BAD_HEADER = 2,       /* MAC / NWK header not the one the client waits for */
    ALT_EMU_BYTES_BAD_MIC = 3,
    ALT_EMU_BYTES_BAD_PAYLOAD = 4       /* APS / ZCL / OTA header not the expected one, or a replayed counter */
};

/* The receiver of device (installation, side) on its own, over n PSDUs (frame i at psdus + i * stride, lens[i]
 * bytes, each long enough for a 1-byte block): verdicts[i] per frame, frame counters checked in order across
 * all n. For tests, which hold it to alt_frames_parse. */
int alt_emu_bytes_receive(const alt_emu_bytes_params *p, uint64_t installation, int side, const uint8_t *psdus,
                          size_t n, size_t stride, const uint16_t *lens, uint8_t *verdicts);

#endif
