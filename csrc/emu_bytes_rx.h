/* Internal to the byte pass (emu_bytes.c): the receiver of a device's Image Block Responses. */
#ifndef ALT_EMU_BYTES_RX_H
#define ALT_EMU_BYTES_RX_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ccm.h"
#include "crc.h"
#include "emu_bytes.h"
#include "frames.h"

/* Frames built and received per batch call: long enough for the interleaved CCM* kernels to run at full
 * speed, short enough that a thread's buffers stay in L2. */
#define CHUNK 256
#define STRIDE 128

/* A bridge's OTA client knows the one frame shape it is waiting for, so it checks every frame against it in
 * batches rather than parsing it field by field (alt_frames_parse, which the tests hold it to): the FCS of
 * all frames in one CRC batch, the MAC and NWK headers against the device's expected header (sequence
 * numbers and the frame counter free), the NWK MIC as one CCM* batch under the device's key, then the clear
 * APS / ZCL / OTA header against the expected one (APS counter, ZCL sequence and file offset free). */

/* Where the fields are in this pass's frames (frame_template in emu_bytes.c: short MAC addresses, no MAC
 * security, NWK header without IEEE addresses, NWK auxiliary header with the extended source). receiver_init
 * checks these against a frame the builder makes and the CCM* that opens it. */
enum {
    AT_NWK = 9, AT_NWK_SEQ = 16, AT_SC = 17, AT_COUNTER = 18, AT_SEC_SRC = 22, AT_PAYLOAD = 31,
    AAD_LEN = AT_PAYLOAD - AT_NWK, NWK_MIC = 4,
    /* in the clear payload */
    AT_APS_COUNTER = 7, AT_ZCL_SEQ = 9, AT_OFFSET = 20, AT_SIZE = 24, AT_DATA = 25
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Host order; used only to compare bytes under masks loaded the same way. */
static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* 32 bytes compared as four words under a mask (1 bits: must match). */
typedef struct expected32 { uint64_t want[4], mask[4]; } expected32;

static void expect_init(expected32 *e, const uint8_t *ref, size_t len, const int *free_at, int n_free)
{
    uint8_t want[32] = {0}, mask[32] = {0};
    memcpy(want, ref, len);
    memset(mask, 0xFF, len);
    for (int i = 0; i < n_free; i++)
        mask[free_at[i]] = 0;
    for (int w = 0; w < 4; w++) {
        e->want[w] = load64(want + 8 * w) & load64(mask + 8 * w);
        e->mask[w] = load64(mask + 8 * w);
    }
}

static int expect_ok(const expected32 *e, const uint8_t *p)
{
    uint64_t diff = 0;
    for (int w = 0; w < 4; w++)
        diff |= (load64(p + 8 * w) & e->mask[w]) ^ e->want[w];
    return diff == 0;
}

/* One device's receiver: what it expects, and what it has taken so far. */
typedef struct receiver {
    expected32 header, clear;           /* MAC + NWK headers; APS + ZCL + OTA header in the clear */
    uint8_t sc_used;                    /* the security control byte with the level put back */
    const uint8_t *key;                 /* the device's NWK key (16 bytes) */
    uint32_t block_size;
    uint64_t image_size;
    uint8_t *image;                     /* reassembly buffer, image_size bytes */
    uint32_t last_counter;
    bool counter_seen;
    uint64_t blocks_received;           /* frames taken that carried the block they were sent for */
    uint32_t rejected_fcs, rejected_mic, undetected;
} receiver;

/* The receiver's scratch space for one chunk: FCS remainders, the CCM* batch's packed inputs and outputs. */
typedef struct rx_work {
    uint16_t crc[CHUNK];
    size_t which[CHUNK];
    uint8_t aad[CHUNK * 32], nonces[CHUNK * 13], ok[CHUNK];
    uint8_t in[CHUNK * ALT_FRAMES_MAX_PSDU], clear[CHUNK * ALT_FRAMES_MAX_PSDU];
} rx_work;

/* Builds one reference frame of the device and opens it with the fixed layout above: the expected headers. */
static int receiver_init(receiver *r, const alt_frames_frame *tmpl, const uint8_t key[16], uint32_t block_size,
                         uint64_t image_size, uint8_t *image)
{
    memset(r, 0, sizeof *r);
    r->key = key;
    r->block_size = block_size;
    r->image_size = image_size;
    r->image = image;
    static const uint8_t zeros[65];
    uint32_t zero32 = 0;
    uint8_t seq0 = 0, frame[STRIDE + 32] = {0}, aad[AAD_LEN], nonce[13], clear[ALT_FRAMES_MAX_PSDU + 32] = {0};
    alt_frames_ibr_batch b = {.tmpl = tmpl, .n = 1, .data = zeros, .data_len = block_size, .data_stride = 65,
                              .offsets = &zero32, .counters = &zero32, .seqs = &seq0, .nwk_keys = key,
                              .key_count = 1, .out = frame, .stride = STRIDE};
    size_t len;
    int rc = alt_frames_build_ibr_batch(&b, &len);
    if (rc)
        return rc;
    if (len != AT_PAYLOAD + 8 + 3 + 14 + block_size + NWK_MIC + ALT_FRAMES_FCS_LEN)
        return ALT_EINVAL;
    r->sc_used = (uint8_t)(frame[AT_SC] | ALT_FRAMES_ZIGBEE_LEVEL);
    static const int header_free[] = {2, AT_NWK_SEQ, AT_COUNTER, AT_COUNTER + 1, AT_COUNTER + 2, AT_COUNTER + 3};
    expect_init(&r->header, frame, AT_PAYLOAD, header_free, 6);
    memcpy(aad, frame + AT_NWK, AAD_LEN);
    aad[AT_SC - AT_NWK] = r->sc_used;
    memcpy(nonce, frame + AT_SEC_SRC, 8);
    memcpy(nonce + 8, frame + AT_COUNTER, 4);
    nonce[12] = r->sc_used;
    rc = alt_ccm_decrypt(key, nonce, 13, aad, AAD_LEN, frame + AT_PAYLOAD, len - AT_PAYLOAD - 2, NWK_MIC, clear);
    if (rc)
        return ALT_EINVAL;                   /* the layout above is not the builder's */
    static const int clear_free[] = {AT_APS_COUNTER, AT_ZCL_SEQ, AT_OFFSET, AT_OFFSET + 1, AT_OFFSET + 2,
                                     AT_OFFSET + 3, AT_SIZE};
    expect_init(&r->clear, clear, AT_DATA, clear_free, 7);
    return clear[AT_SIZE] == block_size && le32(clear + AT_OFFSET) == 0 ? ALT_OK : ALT_EINVAL;
}

/* Receives m frames of len bytes at frames + i * STRIDE (their tails get zeroed): FCS, headers, MIC and
 * frame counter of each, verdict[i] what became of it. Data taken goes to its offset; frame i was sent for
 * block[i], corrupted if corrupt[i] (which only the counts use: a corrupted frame taken is an undetected
 * error). */
static int receive_chunk(receiver *r, rx_work *w, uint8_t *frames, size_t m, size_t len, const uint8_t *corrupt,
                         const uint64_t *block, uint8_t *verdict)
{
    size_t in_len = len - AT_PAYLOAD - ALT_FRAMES_FCS_LEN, msg_len = in_len - NWK_MIC;
    /* FCS: with each frame's tail zeroed, the STRIDE bytes ending at frame i's end hold frame i behind zeros,
     * which CRC-16/KERMIT (zero start) ignores; a frame followed by its FCS leaves remainder 0 */
    for (size_t i = 0; i < m; i++)
        memset(frames + i * STRIDE + len, 0, STRIDE - len);
    uint32_t crc0 = 0;
    int rc = alt_crc_compute(ALT_CRC16_KERMIT, frames, len, &crc0);
    w->crc[0] = (uint16_t)crc0;
    if (!rc && m > 1)
        rc = alt_crc_blocks(ALT_CRC16_KERMIT, frames + len, (m - 1) * STRIDE, STRIDE, w->crc + 1, CHUNK - 1);
    if (rc)
        return rc;
    size_t k = 0;                        /* frames that go on to the MIC */
    for (size_t i = 0; i < m; i++) {
        const uint8_t *f = frames + i * STRIDE;
        if (w->crc[i] != 0) {
            r->rejected_fcs++;
            verdict[i] = ALT_EMU_BYTES_BAD_FCS;
            continue;
        }
        if (!expect_ok(&r->header, f)) {
            r->rejected_mic++;           /* a header this client does not take */
            verdict[i] = ALT_EMU_BYTES_BAD_HEADER;
            continue;
        }
        uint8_t *aad = w->aad + k * AAD_LEN, *nonce = w->nonces + 13 * k;
        memcpy(aad, f + AT_NWK, AAD_LEN);
        aad[AT_SC - AT_NWK] = r->sc_used;
        memcpy(nonce, f + AT_SEC_SRC, 8);
        memcpy(nonce + 8, f + AT_COUNTER, 4);
        nonce[12] = r->sc_used;
        memcpy(w->in + k * in_len, f + AT_PAYLOAD, in_len);
        w->which[k++] = i;
    }
    if (k == 0)
        return ALT_OK;
    alt_ccm_batch batch = {.n = k, .keys = r->key, .key_count = 1, .nonces = w->nonces, .nonce_len = 13,
                           .aad = {w->aad, NULL, AAD_LEN}, .in = {w->in, NULL, in_len}, .out = w->clear,
                           .mic_len = NWK_MIC, .ok = w->ok};
    if ((rc = alt_ccm_decrypt_batch(&batch)) != ALT_OK)
        return rc;
    for (size_t t = 0; t < k; t++) {
        size_t i = w->which[t];
        const uint8_t *c = w->clear + t * msg_len;
        if (!w->ok[t]) {
            r->rejected_mic++;
            verdict[i] = ALT_EMU_BYTES_BAD_MIC;
            continue;
        }
        uint32_t counter = le32(frames + i * STRIDE + AT_COUNTER), offset = le32(c + AT_OFFSET);
        if (!expect_ok(&r->clear, c) || c[AT_SIZE] != msg_len - AT_DATA ||
            !alt_frames_counter_accept(&r->last_counter, &r->counter_seen, counter)) {
            r->rejected_mic++;           /* a payload this client does not take, or a replayed counter */
            verdict[i] = ALT_EMU_BYTES_BAD_PAYLOAD;
            continue;
        }
        verdict[i] = ALT_EMU_BYTES_ACCEPTED;
        uint64_t size = c[AT_SIZE];
        if (corrupt[i])
            r->undetected++;             /* passed FCS and MIC: the hash has to catch it */
        else if (offset == block[i] * r->block_size)
            r->blocks_received++;
        if ((uint64_t)offset + size <= r->image_size)
            memcpy(r->image + offset, c + AT_DATA, size);
    }
    return ALT_OK;
}

#endif
