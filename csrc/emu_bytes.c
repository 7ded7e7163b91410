/* The emulator's "bytes" fidelity (rules in emu_bytes.h): per device, build its Image Block Responses in
 * batches, corrupt those of repeated exchanges, receive them all (FCS, MIC, counters: emu_bytes_rx.inc),
 * reassemble, hash. */
#include "emu_bytes.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "emu_control.h"
#include "emu_bytes_rx.inc"
#include "frames.h"
#include "rng.h"
#include "sha256.h"



int alt_emu_bytes_check(const alt_emu_bytes_params *p)
{
    if (!p || !p->image || p->image_size == 0 || p->block_size == 0 || p->block_size > 65)
        return ALT_EINVAL;
    uint64_t blocks = (p->image_size + p->block_size - 1) / p->block_size;
    if (blocks > UINT32_MAX || p->image_size > UINT32_MAX)
        return ALT_EINVAL;
    if (!(p->corrupt_image_prob >= 0.0 && p->corrupt_image_prob <= 1.0) || p->corrupt_bytes == 0)
        return ALT_EINVAL;
    if (p->corrupt_bytes > 64 || !(p->ber >= 0.0 && p->ber <= 0.1))
        return ALT_EINVAL;
    return ALT_OK;
}

void alt_emu_bytes_device_key(uint64_t seed, uint64_t installation, int side, uint8_t key[16])
{
    alt_rng r;
    alt_rng_init(&r, seed, installation, ALT_EMU_BYTES_STREAM_KEY + (uint64_t)side);
    for (int w = 0; w < 2; w++) {
        uint64_t v = alt_rng_next(&r);
        for (int i = 0; i < 8; i++)
            key[8 * w + i] = (uint8_t)(v >> (8 * i));
    }
}

/* Uniform integer in [0, n) (n >= 1), by the high half of a 64 x 64-bit product. */
static uint64_t below(alt_rng *r, uint64_t n)
{
    uint64_t hi;
    alt_mulhilo64(alt_rng_next(r), n, &hi);
    return hi;
}

/* ---- the device's frame sequence ----------------------------------------------------------------------- */

/* Walks the frames of one device in order: slot b (0 .. D) holds the repeats the timing run lost while the
 * device asked for block b (its lost run at b, if any), then (b < D) the delivery of block b. */
typedef struct sequence {
    uint64_t blocks, delivered, repeats;
    const uint32_t *run, *run_end;      /* the device's (slot, count) runs not yet entered */
    uint64_t slot, repeats_left;
    int delivery_left;
} sequence;

static void enter_slot(sequence *s)
{
    s->repeats_left = 0;
    if (s->run < s->run_end && s->run[0] == s->slot) {
        s->repeats_left = s->run[1];
        s->run += 2;
    }
    s->delivery_left = s->slot < s->delivered;
}

/* ALT_EINVAL when the device's runs are not what a timing run logs for its counts (emu_bytes.h). */
static int sequence_init(sequence *s, const alt_emu_bytes_params *p, const alt_emu_bytes_timing *in, size_t row)
{
    s->blocks = (p->image_size + p->block_size - 1) / p->block_size;
    uint32_t ex = in->exchanges[row], rep = in->exchange_retries[row];
    int o = in->outcome[row];
    int started = o != ALT_EMU_WAN_FAILED && o != ALT_EMU_NOT_REQUESTED && ex > 0;
    uint64_t successes = started && ex > rep ? ex - rep : 0;
    s->delivered = successes < s->blocks ? successes : s->blocks;
    s->repeats = started ? rep : 0;
    uint64_t lo = in->lost_first[row], hi = in->lost_first[row + 1];
    if (hi < lo)
        return ALT_EINVAL;
    s->run = in->lost_runs + 2 * lo;
    s->run_end = in->lost_runs + 2 * hi;
    uint64_t total = 0;
    for (const uint32_t *r = s->run; r < s->run_end; r += 2) {
        if (r[1] == 0 || r[0] > s->delivered || (r > s->run && r[0] <= r[-2]))
            return ALT_EINVAL;
        total += r[1];
    }
    if (total != s->repeats)
        return ALT_EINVAL;
    s->slot = 0;
    enter_slot(s);
    return ALT_OK;
}

/* The next frame: its block and whether it is a corrupted repeat; 0 at the end. */
static int sequence_next(sequence *s, uint64_t *block, int *corrupt)
{
    for (;;) {
        if (s->repeats_left) {
            s->repeats_left--;
            *block = s->slot < s->blocks ? s->slot : s->blocks - 1;
            *corrupt = 1;
            return 1;
        }
        if (s->delivery_left) {
            s->delivery_left = 0;
            *block = s->slot;
            *corrupt = 0;
            return 1;
        }
        if (s->slot >= s->delivered)
            return 0;
        s->slot++;
        enter_slot(s);
    }
}

/* ---- bit errors ----------------------------------------------------------------------------------------- */

/* K ~ Binomial(nbits, ber) given K >= 1, by inversion (ber <= 0.1 keeps every term representable). */
static unsigned flips_count(alt_rng *r, unsigned nbits, double ber)
{
    if (ber <= 0.0)
        return 1;
    double q = 1.0 - ber;
    double p_any = -expm1((double)nbits * log1p(-ber));
    double target = alt_rng_uniform(r) * p_any;
    double term = (double)nbits * ber * pow(q, (double)nbits - 1.0), cum = term;
    unsigned k = 1;
    while (cum < target && k < nbits) {
        term *= (double)(nbits - k) / (double)(k + 1) * ber / q;
        k++;
        cum += term;
    }
    return k;
}

static void corrupt_frame(alt_rng *r, uint8_t *frame, unsigned len, double ber)
{
    unsigned nbits = 8 * len;
    unsigned k = flips_count(r, nbits, ber);
    uint64_t seen[ALT_FRAMES_MAX_PSDU * 8 / 64 + 1] = {0};
    for (unsigned done = 0; done < k;) {
        unsigned bit = (unsigned)below(r, nbits);
        if (seen[bit >> 6] >> (bit & 63) & 1)
            continue;
        seen[bit >> 6] |= UINT64_C(1) << (bit & 63);
        frame[bit >> 3] ^= (uint8_t)(1u << (bit & 7));
        done++;
    }
}

/* ---- one device ----------------------------------------------------------------------------------------- */

typedef struct buffers {
    uint8_t frames[CHUNK * STRIDE];
    uint8_t data[CHUNK * 65];
    uint16_t lens[CHUNK];
    uint32_t offsets[CHUNK], counters[CHUNK];
    uint8_t seqs[CHUNK], corrupt[CHUNK];
    uint64_t block[CHUNK];
    rx_work rx;
    uint8_t verdict[CHUNK];             /* enum alt_emu_bytes_verdict per frame */
    uint8_t *served;                    /* the CH's (possibly corrupted) copy of the image */
    uint8_t *image;                     /* reassembly buffers of the devices of UNITS_PER_HASH units,
                                         * image_size bytes each, back to back so that they are hashed in
                                         * one multi-message call */
} buffers;

static void frame_template(alt_frames_frame *t, const alt_emu_bytes_params *p, uint64_t installation, int side)
{
    memset(t, 0, sizeof *t);
    uint16_t bridge = (uint16_t)(ALT_EMU_BYTES_BRIDGE_SHORT + side);
    t->mac = (alt_frames_mac){.frame_type = ALT_FRAMES_MAC_DATA, .ack_request = true, .pan_id_compression = true,
                              .dst_mode = ALT_FRAMES_ADDR_SHORT, .src_mode = ALT_FRAMES_ADDR_SHORT,
                              .dst_pan = ALT_EMU_BYTES_PAN, .src_pan = ALT_EMU_BYTES_PAN, .dst_addr = bridge};
    t->has_nwk = t->has_aps = t->has_zcl = t->has_ota = true;
    t->nwk = (alt_frames_nwk){.protocol_version = 2, .discover_route = 1, .security = true, .dst = bridge,
                              .radius = 30, .sec_level = ALT_FRAMES_ZIGBEE_LEVEL, .key_id = ALT_FRAMES_KEY_NETWORK,
                              .ext_nonce = true, .sec_src = ALT_EMU_BYTES_CH_EUI64 | (installation & 0xFFFFFF)};
    t->aps = (alt_frames_aps){.dst_endpoint = 1, .src_endpoint = 1, .cluster = ALT_FRAMES_CLUSTER_OTA,
                              .profile = ALT_FRAMES_PROFILE_SE};
    t->zcl = (alt_frames_zcl){.frame_type = 1, .server_to_client = true, .disable_default_response = true,
                              .command = ALT_OTA_IMAGE_BLOCK_RESPONSE};
    t->ota = (alt_frames_ota){.status = ALT_OTA_SUCCESS, .manufacturer = p->manufacturer,
                              .image_type = p->image_type, .file_version = p->file_version};
}

typedef struct device {
    const alt_emu_bytes_params *p;
    alt_frames_frame tmpl;
    uint8_t key[16];
    alt_rng errors;
    double ber;
    uint64_t next_frame;                /* frames built so far */
    receiver rx;
} device;

static double path_ber(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *in, size_t row, unsigned nbits)
{
    if (p->ber > 0.0)
        return p->ber;
    size_t unit = row / 2;
    double han = in->han_per ? in->han_per[unit] : 0.0, bridge = in->bridge_per ? in->bridge_per[unit] : 0.0;
    double keep = log1p(-han) + (row & 1 ? log1p(-bridge) : 0.0);   /* log P(frame survives the path) */
    double ber = -expm1(keep / nbits);
    return ber < 0.1 ? ber : 0.1;
}

/* Builds frames [0, m) of the chunk (all with the same data length) and corrupts the repeats. */
static int build_chunk(device *d, buffers *w, size_t m, size_t data_len)
{
    alt_frames_ibr_batch b = {
        .tmpl = &d->tmpl, .n = m, .data = w->data, .data_len = data_len, .data_stride = 65,
        .offsets = w->offsets, .counters = w->counters, .seqs = w->seqs, .nwk_keys = d->key, .key_count = 1,
        .out = w->frames, .stride = STRIDE};
    size_t len;
    int rc = alt_frames_build_ibr_batch(&b, &len);
    if (rc)
        return rc;
    for (size_t i = 0; i < m; i++) {
        w->lens[i] = (uint16_t)len;
        if (w->corrupt[i])
            corrupt_frame(&d->errors, w->frames + i * STRIDE, (unsigned)len, d->ber);
    }
    return ALT_OK;
}

static int device_init(device *d, const alt_emu_bytes_params *p, const alt_emu_bytes_timing *in, size_t row,
                       uint8_t *image)
{
    memset(d, 0, sizeof *d);
    uint64_t inst = in->installation[row / 2];
    int side = (int)(row & 1);
    d->p = p;
    frame_template(&d->tmpl, p, inst, side);
    alt_emu_bytes_device_key(p->seed, inst, side, d->key);
    alt_rng_init(&d->errors, p->seed, inst, ALT_EMU_BYTES_STREAM_ERRORS + (uint64_t)side);
    /* every full-block frame has the same length; the BER is set for it */
    unsigned full_len = 9 + 8 + 14 + 8 + 3 + 14 + p->block_size + 4 + 2;
    d->ber = path_ber(p, in, row, 8 * full_len);
    return receiver_init(&d->rx, &d->tmpl, d->key, p->block_size, p->image_size, image);
}

typedef int (*chunk_sink)(device *d, buffers *w, size_t m, void *ctx);

/* Sends the device's whole frame sequence through build_chunk and then sink, CHUNK frames at a time (a chunk
 * also ends where the data length changes, i.e. at the short last block). */
static int device_pass(device *d, buffers *w, sequence *s, const uint8_t *served, chunk_sink sink, void *ctx)
{
    const alt_emu_bytes_params *p = d->p;
    uint64_t full = p->image_size / p->block_size;
    size_t m = 0, chunk_len = 0;
    uint64_t block;
    int corrupt, rc;
    for (;;) {
        int more = sequence_next(s, &block, &corrupt);
        size_t len = !more ? 0 : block < full ? p->block_size : (size_t)(p->image_size - block * p->block_size);
        if (m && (!more || len != chunk_len || m == CHUNK)) {
            if ((rc = build_chunk(d, w, m, chunk_len)) != ALT_OK || (rc = sink(d, w, m, ctx)) != ALT_OK)
                return rc;
            m = 0;
        }
        if (!more)
            return ALT_OK;
        chunk_len = len;
        w->offsets[m] = (uint32_t)(block * p->block_size);
        w->counters[m] = (uint32_t)(d->next_frame + 1);
        w->seqs[m] = (uint8_t)d->next_frame;
        w->corrupt[m] = (uint8_t)corrupt;
        w->block[m] = block;
        copy_short(w->data + 65 * m, served + block * p->block_size, len);
        m++;
        d->next_frame++;
    }
}

static int receive_sink(device *d, buffers *w, size_t m, void *ctx)
{
    (void)ctx;
    return receive_chunk(&d->rx, &w->rx, w->frames, m, w->lens[0], w->corrupt, w->block, w->verdict);
}

/* The CH's copy of the image for installation inst: the image itself, or w->served with corrupt_bytes
 * distinct bytes (all of a smaller image) changed, each XORed with a non-zero value so that it really changes. */
static const uint8_t *served_image(const alt_emu_bytes_params *p, uint64_t inst, buffers *w, int *corrupted)
{
    alt_rng r;
    alt_rng_init(&r, p->seed, inst, ALT_EMU_BYTES_STREAM_IMAGE);
    *corrupted = alt_rng_bernoulli(&r, p->corrupt_image_prob);
    if (!*corrupted)
        return p->image;
    memcpy(w->served, p->image, p->image_size);
    uint64_t pos[64];
    uint32_t changes = p->corrupt_bytes < p->image_size ? p->corrupt_bytes : (uint32_t)p->image_size;
    for (uint32_t j = 0; j < changes;) {
        uint64_t at = below(&r, p->image_size);
        int again = 0;
        for (uint32_t i = 0; i < j; i++)
            again |= pos[i] == at;
        if (again)
            continue;
        pos[j++] = at;
        w->served[at] ^= (uint8_t)(1 + below(&r, 255));
    }
    return w->served;
}

/* Units are run in pairs so that their four devices' images can be hashed together; one at a time when the
 * image is so large that four reassembly buffers a thread would cost more memory than the hash saves time. */
#define UNITS_PER_HASH 2
#define DEVICES_PER_HASH (2 * UNITS_PER_HASH)
#define PAIRED_IMAGE_MAX ((uint64_t)8 << 20)

static size_t units_per_hash(const alt_emu_bytes_params *p)
{
    return p->image_size <= PAIRED_IMAGE_MAX ? UNITS_PER_HASH : 1;
}

/* Hashes the devices' reassembled images (device k's at images + k * size) that are complete, writing their
 * digests: runs of complete devices go to the multi-message SHA-256 (SHA-NI keeps several messages in flight,
 * so four images cost little more than one), the others are not hashed. */
static int hash_complete(const uint8_t *images, uint64_t size, const int *complete, int devices,
                         uint8_t digest[][32])
{
    for (int k = 0; k < devices;) {
        if (!complete[k]) {
            k++;
            continue;
        }
        int run = 1;
        while (k + run < devices && complete[k + run])
            run++;
        int rc = alt_sha256_blocks(images + (size_t)k * size, (size_t)run * size, size, &digest[k][0]);
        if (rc)
            return rc;
        k += run;
    }
    return ALT_OK;
}

/* Units first .. first + count - 1 (count <= UNITS_PER_HASH): every device's pass, then the hash checks. */
static int run_units(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *in, size_t first, size_t count,
                     buffers *w, const alt_emu_bytes_outputs *out)
{
    int complete[DEVICES_PER_HASH] = {0};
    for (size_t k = 0; k < count; k++) {
        size_t unit = first + k;
        int corrupted;
        const uint8_t *served = served_image(p, in->installation[unit], w, &corrupted);
        for (int side = 0; side < 2; side++) {
            size_t row = 2 * unit + (size_t)side;
            uint8_t *image = w->image + (2 * k + (size_t)side) * p->image_size;
            device d;
            sequence s;
            int rc = device_init(&d, p, in, row, image);
            if (rc || (rc = sequence_init(&s, p, in, row)) != ALT_OK)
                return rc;
            /* The buffer is not cleared of an earlier device's bytes: it is hashed only when every block was
             * taken uncorrupted at its own offset (a device's sequence delivers each block once), and then
             * every byte of it has been written during this device's pass. */
            if (s.delivered + s.repeats > 0) {
                rc = device_pass(&d, w, &s, served, receive_sink, NULL);
                if (rc)
                    return rc;
                complete[2 * k + (size_t)side] = d.rx.blocks_received == s.blocks;
            }
            out->frames_built[row] = (uint32_t)d.next_frame;
            out->frames_rejected_fcs[row] = d.rx.rejected_fcs;
            out->frames_rejected_mic[row] = d.rx.rejected_mic;
            out->undetected_errors[row] = d.rx.undetected;
            out->image_corrupted[row] = (uint8_t)corrupted;
        }
    }
    /* Each device that holds every block checks the SHA-256 of what it reassembled. */
    uint8_t digest[DEVICES_PER_HASH][32];
    int devices = (int)(2 * count);
    int rc = hash_complete(w->image, p->image_size, complete, devices, digest);
    if (rc)
        return rc;
    for (int k = 0; k < devices; k++)
        out->hash_ok[2 * first + (size_t)k] =
            (uint8_t)(complete[k] && memcmp(digest[k], p->expected_hash, 32) == 0);
    return ALT_OK;
}

static buffers *buffers_new(const alt_emu_bytes_params *p)
{
    buffers *w = malloc(sizeof *w);
    if (!w)
        return NULL;
    w->served = malloc(p->image_size);
    w->image = malloc(2 * units_per_hash(p) * p->image_size);
    if (!w->served || !w->image) {
        free(w->served);
        free(w->image);
        free(w);
        return NULL;
    }
    return w;
}

static void buffers_free(buffers *w)
{
    if (w) {
        free(w->served);
        free(w->image);
        free(w);
    }
}

/* ---- threads (as emu_threads.c: units shared out in small chunks, each writing only its own rows) -------- */

#define UNITS_PER_GRAB 4

typedef struct job {
    const alt_emu_bytes_params *p;
    const alt_emu_bytes_timing *in;
    size_t n;
    const alt_emu_bytes_outputs *out;
    alt_emu_control *ctl;
    atomic_size_t next;
    atomic_int status;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    buffers *w = buffers_new(j->p);
    if (!w) {
        atomic_store(&j->status, ALT_ENOMEM);
        return NULL;
    }
    for (;;) {
        size_t lo = atomic_fetch_add(&j->next, UNITS_PER_GRAB);
        if (lo >= j->n || atomic_load_explicit(&j->ctl->stop, memory_order_relaxed) ||
            atomic_load_explicit(&j->status, memory_order_relaxed))
            break;
        size_t hi = lo + UNITS_PER_GRAB < j->n ? lo + UNITS_PER_GRAB : j->n;
        size_t per_hash = units_per_hash(j->p);
        for (size_t unit = lo; unit < hi; unit += per_hash) {
            size_t count = hi - unit < per_hash ? hi - unit : per_hash;
            int rc = run_units(j->p, j->in, unit, count, w, j->out);
            if (rc) {
                atomic_store(&j->status, rc);
                break;
            }
        }
        atomic_fetch_add_explicit(&j->ctl->done, hi - lo, memory_order_relaxed);
    }
    buffers_free(w);
    return NULL;
}

static int timing_ok(const alt_emu_bytes_timing *in, size_t n)
{
    return in && (n == 0 || (in->installation && in->outcome && in->exchanges && in->exchange_retries &&
                             in->lost_first && in->lost_runs));
}

static int outputs_ok(const alt_emu_bytes_outputs *o, size_t n)
{
    return o && (n == 0 || (o->frames_built && o->frames_rejected_fcs && o->frames_rejected_mic &&
                            o->undetected_errors && o->hash_ok && o->image_corrupted));
}

int alt_emu_bytes_run(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *in, size_t n,
                      const alt_emu_bytes_outputs *out, int n_threads, alt_emu_control *ctl)
{
    if (alt_emu_bytes_check(p) != ALT_OK || !timing_ok(in, n) || !outputs_ok(out, n) || n_threads < 1)
        return ALT_EINVAL;
    alt_emu_control local;
    ctl = alt_emu_control_or_local(ctl, &local);
    job j = {.p = p, .in = in, .n = n, .out = out, .ctl = ctl};
    atomic_init(&j.next, 0);
    atomic_init(&j.status, ALT_OK);
    int status = alt_emu_run_workers(n_threads, (n + UNITS_PER_GRAB - 1) / UNITS_PER_GRAB, worker, &j);
    if (status == ALT_OK)
        status = atomic_load(&j.status);
    return status != ALT_OK ? status : alt_emu_control_outcome(ctl, n);
}

/* ---- one device's frames, for inspection ---------------------------------------------------------------- */

typedef struct export_ctx {
    uint64_t first, seen;
    size_t cap, count;
    uint8_t *out;
    size_t stride;
    uint16_t *lens;
    uint8_t *corrupted;
    uint32_t *offsets;                  /* may be NULL */
} export_ctx;

static int export_sink(device *d, buffers *w, size_t m, void *arg)
{
    export_ctx *e = arg;
    for (size_t i = 0; i < m; i++, e->seen++) {
        if (e->seen < e->first || e->count >= e->cap)
            continue;
        if (w->lens[i] > e->stride)
            return ALT_ERANGE;
        memcpy(e->out + e->count * e->stride, w->frames + i * STRIDE, w->lens[i]);
        e->lens[e->count] = w->lens[i];
        e->corrupted[e->count] = w->corrupt[i];
        if (e->offsets)
            e->offsets[e->count] = w->offsets[i];
        e->count++;
    }
    return ALT_OK;
}

int alt_emu_bytes_device_frames(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *in, size_t row,
                                uint64_t first, size_t cap, uint8_t *out, size_t stride, uint16_t *lens,
                                uint8_t *corrupted, uint32_t *offsets, size_t *count)
{
    if (alt_emu_bytes_check(p) != ALT_OK || !timing_ok(in, row / 2 + 1) || !count ||
        (cap && (!out || !lens || !corrupted)))
        return ALT_EINVAL;
    buffers *w = buffers_new(p);
    if (!w)
        return ALT_ENOMEM;
    int corrupt_copy;
    const uint8_t *served = served_image(p, in->installation[row / 2], w, &corrupt_copy);
    device d;
    sequence s;
    int rc = device_init(&d, p, in, row, w->image);
    if (rc == ALT_OK)
        rc = sequence_init(&s, p, in, row);
    export_ctx e = {.first = first, .cap = cap, .out = out, .stride = stride, .lens = lens, .corrupted = corrupted,
                    .offsets = offsets};
    if (rc == ALT_OK)
        rc = device_pass(&d, w, &s, served, export_sink, &e);
    buffers_free(w);
    *count = e.count;
    return rc;
}

/* ---- the receiver on its own, for tests ------------------------------------------------------------------- */

int alt_emu_bytes_receive(const alt_emu_bytes_params *p, uint64_t installation, int side, const uint8_t *psdus,
                          size_t n, size_t stride, const uint16_t *lens, uint8_t *verdicts)
{
    if (alt_emu_bytes_check(p) != ALT_OK || (side != 0 && side != 1) || (n && (!psdus || !lens || !verdicts)))
        return ALT_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (lens[i] < AT_PAYLOAD + AT_DATA + NWK_MIC + ALT_FRAMES_FCS_LEN || lens[i] > ALT_FRAMES_MAX_PSDU ||
            lens[i] > stride)
            return ALT_EINVAL;
    uint64_t unit_key = installation;
    uint8_t outcome = ALT_EMU_COMPLETED;
    uint32_t zero = 0, no_runs[2] = {0};
    uint64_t run_index[3] = {0};
    alt_emu_bytes_timing in = {.installation = &unit_key, .outcome = &outcome, .exchanges = &zero,
                               .exchange_retries = &zero, .lost_first = run_index, .lost_runs = no_runs};
    buffers *w = buffers_new(p);
    if (!w)
        return ALT_ENOMEM;
    device d;
    int rc = device_init(&d, p, &in, (size_t)side, w->image);
    for (size_t base = 0; rc == ALT_OK && base < n;) {
        size_t m = 0;                    /* a chunk: frames of one length */
        while (base + m < n && m < CHUNK && lens[base + m] == lens[base]) {
            memcpy(w->frames + m * STRIDE, psdus + (base + m) * stride, lens[base + m]);
            w->lens[m] = lens[base + m];
            w->corrupt[m] = 0;
            w->block[m] = UINT64_MAX;     /* no block expected: nothing counts as received */
            m++;
        }
        rc = receive_chunk(&d.rx, &w->rx, w->frames, m, w->lens[0], w->corrupt, w->block, w->verdict);
        memcpy(verdicts + base, w->verdict, m);
        base += m;
    }
    buffers_free(w);
    return rc;
}
