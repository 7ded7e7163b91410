/* CCM*: parameter checks, frame formatting (B0, counter block, AAD length prefix) and the batch driver.
 * The AES work runs in the active tier's ccm kernel over prepared jobs (ccm_job.h). */
#include "ccm.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aes_impl.h"

int alt_ccm_check_params(size_t nonce_len, size_t mic_len, size_t msg_len)
{
    if (nonce_len < ALT_CCM_MIN_NONCE || nonce_len > ALT_CCM_MAX_NONCE)
        return ALT_EINVAL;
    if (mic_len > ALT_CCM_MAX_MIC || mic_len == 2 || mic_len % 2)
        return ALT_EINVAL;
    size_t length_bytes = 15 - nonce_len;
    if (length_bytes < sizeof(size_t) && (uint64_t)msg_len >> (8 * length_bytes))
        return ALT_ERANGE;
    return ALT_OK;
}

/* B0 (flags: Adata, M' = (M-2)/2 or 0 for CCM*, L' = L-1; nonce; message length big-endian) and counter
 * block 0 (flags L-1, nonce, zero counter). */
static void format_b0_a0(uint8_t b0[16], uint8_t a0[16], const uint8_t *nonce, size_t nonce_len,
                         size_t aad_len, size_t len, size_t mic_len)
{
    size_t length_bytes = 15 - nonce_len;
    a0[0] = (uint8_t)(length_bytes - 1);
    memcpy(a0 + 1, nonce, nonce_len);
    memset(a0 + 1 + nonce_len, 0, length_bytes);
    memcpy(b0, a0, 16);
    b0[0] |= (uint8_t)((aad_len ? 0x40 : 0) | (mic_len ? ((mic_len - 2) / 2) << 3 : 0));
    for (size_t b = 0; b < length_bytes && b < sizeof(size_t); b++)
        b0[15 - b] = (uint8_t)((uint64_t)len >> (8 * b));
}

/* The AAD length prefix of SP 800-38C A.2.2; returns its length (0 without AAD). */
static size_t format_aad_prefix(size_t aad_len, uint8_t prefix[10])
{
    uint64_t a = aad_len;
    if (aad_len == 0)
        return 0;
    if (a < 0xff00) {
        prefix[0] = (uint8_t)(a >> 8);
        prefix[1] = (uint8_t)a;
        return 2;
    }
    prefix[0] = 0xff;
    if (a >> 32 == 0) {
        prefix[1] = 0xfe;
        for (int b = 0; b < 4; b++)
            prefix[2 + b] = (uint8_t)(a >> (24 - 8 * b));
        return 6;
    }
    prefix[1] = 0xff;
    for (int b = 0; b < 8; b++)
        prefix[2 + b] = (uint8_t)(a >> (56 - 8 * b));
    return 10;
}

static void prepare(alt_ccm_job *j, const uint8_t *key, const alt_aes128_key *ks, const uint8_t *nonce,
                    size_t nonce_len, const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                    uint8_t *out, size_t mic_len, bool decrypt)
{
    j->ks = ks;
    j->key = key;
    j->in = in;
    j->out = out;
    j->aad = aad;
    j->len = len;
    j->mic_len = (unsigned)mic_len;
    j->mic_in = decrypt ? in + len : NULL;
    j->mic_out = decrypt || !out ? NULL : out + len;
    j->full_blocks = len / 16;
    j->nblocks = (len + 15) / 16;
    format_b0_a0(j->b0, j->a0, nonce, nonce_len, aad_len, len, mic_len);
    uint8_t prefix[10];
    size_t p = format_aad_prefix(aad_len, prefix);
    j->prefix_len = p;
    j->aad_blocks = aad_len ? (p + aad_len + 15) / 16 : 0;
    memset(j->aad_first, 0, 16);
    if (aad_len) {
        memcpy(j->aad_first, prefix, p);
        size_t first = aad_len < 16 - p ? aad_len : 16 - p;
        memcpy(j->aad_first + p, aad, first);
    }
    if (j->aad_blocks > 1) {
        size_t start = 16 * (j->aad_blocks - 1) - p;
        memset(j->aad_last, 0, 16);
        memcpy(j->aad_last, aad + start, aad_len - start);
    }
    if (!decrypt && len % 16) {
        memset(j->msg_tail, 0, 16);
        memcpy(j->msg_tail, in + 16 * j->full_blocks, len % 16);
    }
    j->mac_steps = mic_len ? 1 + j->aad_blocks + j->nblocks : 0;
    j->steps = mic_len ? j->mac_steps : j->nblocks;
    j->ok = false;
}

int alt_ccm_encrypt(const uint8_t key[16], const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                    size_t aad_len, const uint8_t *pt, size_t len, size_t mic_len, uint8_t *out)
{
    int rc = alt_ccm_check_params(nonce_len, mic_len, len);
    if (rc)
        return rc;
    if (!key || !nonce || (aad_len && !aad) || (len && !pt) || (len + mic_len && !out))
        return ALT_EINVAL;
    alt_ccm_job job;
    prepare(&job, key, NULL, nonce, nonce_len, aad, aad_len, pt, len, out, mic_len, false);
    alt_aes_active()->ccm(&job, 1, false);
    return ALT_OK;
}

int alt_ccm_decrypt(const uint8_t key[16], const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t in_len, size_t mic_len, uint8_t *pt)
{
    if (in_len < mic_len)
        return ALT_EINVAL;
    int rc = alt_ccm_check_params(nonce_len, mic_len, in_len - mic_len);
    if (rc)
        return rc;
    if (!key || !nonce || (aad_len && !aad) || (in_len && !in) || (in_len - mic_len && !pt))
        return ALT_EINVAL;
    alt_ccm_job job;
    prepare(&job, key, NULL, nonce, nonce_len, aad, aad_len, in, in_len - mic_len, pt, mic_len, true);
    alt_aes_active()->ccm(&job, 1, true);
    return job.ok ? ALT_OK : ALT_EAUTH;
}

static inline void span(const alt_ccm_spans *s, size_t i, const uint8_t **p, size_t *len)
{
    if (s->offsets) {
        *p = s->data + s->offsets[i];
        *len = (size_t)(s->offsets[i + 1] - s->offsets[i]);
    } else {
        *p = s->data ? s->data + i * s->stride : NULL;
        *len = s->stride;
    }
}

/* Frames of a fixed-stride buffer that a 16-byte load from anywhere inside them cannot read past its end. */
static size_t overread_safe(size_t n, size_t stride, size_t safe)
{
    if (stride == 0)
        return safe;
    size_t spare = 1 + (16 + stride - 1) / stride;
    size_t s = n > spare ? n - spare : 0;
    return s < safe ? s : safe;
}

static void uniform_init(alt_ccm_uniform *u, const alt_ccm_batch *b, bool decrypt,
                         const alt_aes128_key *schedules)
{
    memset(u, 0, sizeof *u);
    size_t mic = b->mic_len, len = decrypt ? b->in.stride - mic : b->in.stride;
    u->keys = b->keys;
    u->key_index = b->key_index;
    u->key_step = b->key_index || b->key_count == 1 ? 0 : 1;
    u->schedules = schedules;
    u->nonces = b->nonces;
    u->nonce_len = b->nonce_len;
    u->aad = b->aad.data;
    u->aad_len = b->aad.data ? b->aad.stride : 0;
    u->in = b->in.data;
    u->in_stride = b->in.stride;
    u->out = b->out;
    u->out_stride = decrypt ? len : len + mic;
    u->ok = b->ok;
    u->len = len;
    u->n = b->n;
    u->mic_len = (unsigned)mic;
    u->full_blocks = len / 16;
    u->nblocks = (len + 15) / 16;

    static const uint8_t zero_nonce[ALT_CCM_MAX_NONCE];
    format_b0_a0(u->b0, u->a0, zero_nonce, b->nonce_len, u->aad_len, len, mic);
    for (size_t k = 0; k < 16; k++)
        u->nonce_shuffle[k] = k >= 1 && k <= b->nonce_len ? (uint8_t)(k - 1) : 0x80;
    uint8_t prefix[10];
    size_t p = format_aad_prefix(u->aad_len, prefix);
    u->prefix_len = p;
    u->aad_blocks = u->aad_len ? (p + u->aad_len + 15) / 16 : 0;
    memcpy(u->aad_first, prefix, p);
    size_t first = u->aad_len < 16 - p ? u->aad_len : 16 - p;
    for (size_t k = 0; k < 16; k++)
        u->aad_first_shuffle[k] = k >= p && k < p + first ? (uint8_t)(k - p) : 0x80;
    size_t last = u->aad_blocks > 1 ? u->aad_len - (16 * (u->aad_blocks - 1) - p) : 0;
    for (size_t k = 0; k < 16; k++) {
        u->aad_last_mask[k] = k < last ? 0xff : 0;
        u->tail_mask[k] = k < len % 16 ? 0xff : 0;
        u->mic_mask[k] = k < mic ? 0xff : 0;
    }
    u->mac_steps = mic ? 1 + u->aad_blocks + u->nblocks : 0;
    u->steps = mic ? u->mac_steps : u->nblocks;

    size_t safe = overread_safe(b->n, b->nonce_len, b->n);
    safe = overread_safe(b->n, u->aad_len, safe);
    u->safe = overread_safe(b->n, b->in.stride, safe);
}

/* ---- mixed shapes: frames grouped by shape and copied into fixed strides for the uniform kernel ---- */

/* A shape (input and AAD length) with fewer frames than this goes to the mixed-shape kernel; so does any
 * shape past the first few distinct ones. Captures and emulated traffic have a handful of frame sizes. */
#define STAGE_MIN_FRAMES 32
#define STAGE_MAX_SHAPES 32
#define STAGE_CHUNK 256          /* frames staged at a time: a multiple of every tier's lane count */
#define STAGE_SLACK 32           /* the uniform kernels read up to 16 bytes past a block they load */

typedef struct stage_shape {
    size_t in_len, aad_len, count, at;
} stage_shape;

typedef struct stage_buffers {
    uint8_t *in, *aad, *nonces, *out, *ok;
    int64_t *key_index;
    size_t *frame;
} stage_buffers;

static int64_t frame_key(const alt_ccm_batch *b, size_t i)
{
    return b->key_index ? b->key_index[i] : b->key_count == 1 ? 0 : (int64_t)i;
}

/* One chunk of frames of one shape through the uniform kernel: copied in, run, copied out. Marks the frames
 * it finished in handled (a tail shorter than the kernel's lanes is left to the mixed-shape kernel). */
static void run_stage_chunk(const alt_ccm_batch *b, bool decrypt, const alt_aes_impl *impl,
                            const stage_shape *shape, const size_t *frames, size_t m, const size_t *out_off,
                            stage_buffers *st, uint8_t *handled)
{
    size_t mic = b->mic_len, nl = b->nonce_len;
    size_t out_len = decrypt ? shape->in_len - mic : shape->in_len + mic;
    for (size_t k = 0; k < m; k++) {
        size_t i = frames[k];
        const uint8_t *in, *aad;
        size_t len, aad_len;
        span(&b->in, i, &in, &len);
        span(&b->aad, i, &aad, &aad_len);
        memcpy(st->in + k * len, in, len);
        if (aad_len)
            memcpy(st->aad + k * aad_len, aad, aad_len);
        memcpy(st->nonces + k * nl, b->nonces + i * nl, nl);
        st->key_index[k] = frame_key(b, i);
    }
    alt_ccm_batch staged = {
        .n = m, .keys = b->keys, .key_count = b->key_index ? b->key_count : b->key_count == 1 ? 1 : b->n,
        .key_index = st->key_index, .nonces = st->nonces, .nonce_len = nl,
        .aad = {.data = shape->aad_len ? st->aad : NULL, .stride = shape->aad_len},
        .in = {.data = st->in, .stride = shape->in_len}, .out = st->out, .mic_len = mic, .ok = st->ok,
    };
    alt_ccm_uniform u;
    uniform_init(&u, &staged, decrypt, NULL);
    u.safe = m;     /* the staging buffers have the slack the kernels' over-reads need */
    size_t done = impl->ccm_uniform(&u, decrypt);
    for (size_t k = 0; k < done; k++) {
        size_t i = frames[k];
        memcpy(b->out + out_off[i], st->out + k * out_len, out_len);
        b->ok[i] = st->ok[k];
        handled[i] = 1;
    }
}

/* The frames of a batch with offsets whose shape is common enough run in the tier's uniform kernel; they are
 * marked in handled. out_off[i]: where frame i's output goes. ALT_OK or ALT_ENOMEM. */
static int run_staged(const alt_ccm_batch *b, bool decrypt, const alt_aes_impl *impl, const size_t *out_off,
                      uint8_t *handled)
{
    size_t mic = b->mic_len;
    stage_shape shapes[STAGE_MAX_SHAPES];
    size_t n_shapes = 0, last = 0;
    size_t *shape_of = malloc(b->n * sizeof *shape_of), *order = malloc(b->n * sizeof *order);
    int status = shape_of && order ? ALT_OK : ALT_ENOMEM;
    for (size_t i = 0; status == ALT_OK && i < b->n; i++) {
        const uint8_t *p;
        size_t len, aad_len;
        span(&b->in, i, &p, &len);
        span(&b->aad, i, &p, &aad_len);
        shape_of[i] = SIZE_MAX;
        if (decrypt && len < mic)
            continue;
        size_t g = last < n_shapes && shapes[last].in_len == len && shapes[last].aad_len == aad_len ? last : 0;
        while (g < n_shapes && (shapes[g].in_len != len || shapes[g].aad_len != aad_len))
            g++;
        if (g == n_shapes) {
            if (n_shapes == STAGE_MAX_SHAPES)
                continue;
            shapes[n_shapes++] = (stage_shape){.in_len = len, .aad_len = aad_len};
        }
        shapes[g].count++;
        shape_of[i] = last = g;
    }
    size_t at = 0, biggest_in = 0, biggest_aad = 0, biggest_out = 0;
    for (size_t g = 0; g < n_shapes; g++) {
        shapes[g].at = at;
        at += shapes[g].count;
        if (shapes[g].count >= STAGE_MIN_FRAMES) {
            size_t out_len = decrypt ? shapes[g].in_len - mic : shapes[g].in_len + mic;
            biggest_in = shapes[g].in_len > biggest_in ? shapes[g].in_len : biggest_in;
            biggest_aad = shapes[g].aad_len > biggest_aad ? shapes[g].aad_len : biggest_aad;
            biggest_out = out_len > biggest_out ? out_len : biggest_out;
        }
    }
    stage_buffers st = {0};
    if (status == ALT_OK) {
        for (size_t i = 0; i < b->n; i++)           /* frames grouped by shape, in frame order within */
            if (shape_of[i] != SIZE_MAX)
                order[shapes[shape_of[i]].at++] = i;
        st.in = malloc(STAGE_CHUNK * biggest_in + STAGE_SLACK);
        st.aad = malloc(STAGE_CHUNK * biggest_aad + STAGE_SLACK);
        st.nonces = malloc(STAGE_CHUNK * b->nonce_len + STAGE_SLACK);
        st.out = malloc(STAGE_CHUNK * biggest_out + STAGE_SLACK);
        st.ok = malloc(STAGE_CHUNK);
        st.key_index = malloc(STAGE_CHUNK * sizeof *st.key_index);
        if (!st.in || !st.aad || !st.nonces || !st.out || !st.ok || !st.key_index)
            status = ALT_ENOMEM;
    }
    for (size_t g = 0; status == ALT_OK && g < n_shapes; g++) {
        if (shapes[g].count < STAGE_MIN_FRAMES)
            continue;
        const size_t *frames = order + shapes[g].at - shapes[g].count;
        for (size_t k = 0; k < shapes[g].count; k += STAGE_CHUNK) {
            size_t m = shapes[g].count - k < STAGE_CHUNK ? shapes[g].count - k : STAGE_CHUNK;
            run_stage_chunk(b, decrypt, impl, &shapes[g], frames + k, m, out_off, &st, handled);
        }
    }
    free(st.in);
    free(st.aad);
    free(st.nonces);
    free(st.out);
    free(st.ok);
    free(st.key_index);
    free(shape_of);
    free(order);
    return status;
}

/* Frames are prepared and run a chunk at a time, so the job array stays on the stack and in cache. */
#define CHUNK 64

static int run_batch(const alt_ccm_batch *b, bool decrypt)
{
    if (!b || (b->n && (!b->keys || !b->nonces || !b->ok)))
        return ALT_EINVAL;
    if (alt_ccm_check_params(b->nonce_len, b->mic_len, 0))
        return ALT_EINVAL;
    if (b->key_index ? b->key_count == 0 : (b->key_count != 1 && b->key_count != b->n))
        return ALT_EINVAL;
    size_t mic = b->mic_len;
    if (b->key_index)
        for (size_t i = 0; i < b->n; i++)
            if (b->key_index[i] < 0 || (uint64_t)b->key_index[i] >= b->key_count)
                return ALT_EINVAL;
    size_t out_total = 0;
    for (size_t i = 0; i < b->n; i++) {
        const uint8_t *p;
        size_t len;
        span(&b->in, i, &p, &len);
        size_t msg_len = decrypt ? (len >= mic ? len - mic : 0) : len;
        if (alt_ccm_check_params(b->nonce_len, mic, msg_len))
            return ALT_ERANGE;
        if (!b->in.offsets) {   /* every frame has this length */
            out_total = b->n * (decrypt ? msg_len : len + mic);
            break;
        }
        out_total += decrypt ? msg_len : len + mic;
    }
    if (out_total && !b->out)
        return ALT_EINVAL;

    const alt_aes_impl *impl = alt_aes_active();
    alt_aes128_key single;
    alt_aes128_key *table = NULL;
    if (b->key_index && b->key_count < b->n) {
        table = malloc(b->key_count * sizeof *table);
        if (!table)
            return ALT_ENOMEM;
        for (size_t k = 0; k < b->key_count; k++)
            impl->expand(b->keys + 16 * k, &table[k]);
    } else if (!b->key_index && b->key_count == 1 && b->n) {
        impl->expand(b->keys, &single);
    }

    /* Fixed-length frames with fixed-length AAD: the tier's uniform kernel takes all it safely can. */
    size_t done = 0, out_pos = 0;
    if (impl->ccm_uniform && !b->in.offsets && !b->aad.offsets && (!decrypt || b->in.stride >= mic)) {
        alt_ccm_uniform u;
        uniform_init(&u, b, decrypt, table ? table : b->key_count == 1 && !b->key_index ? &single : NULL);
        done = impl->ccm_uniform(&u, decrypt);     /* 0 when the batch is too short for the tier's groups */
        out_pos = done * u.out_stride;
    }

    /* Mixed shapes: the common ones go through the uniform kernel by way of fixed-stride staging. */
    uint8_t *handled = NULL;
    if (impl->ccm_uniform && (b->in.offsets || b->aad.offsets) && b->out && b->n - done >= STAGE_MIN_FRAMES) {
        size_t *out_off = malloc(b->n * sizeof *out_off);
        handled = calloc(b->n, 1);
        int status = out_off && handled ? ALT_OK : ALT_ENOMEM;
        for (size_t i = 0, pos = 0; status == ALT_OK && i < b->n; i++) {
            const uint8_t *in;
            size_t len;
            span(&b->in, i, &in, &len);
            out_off[i] = pos;
            pos += decrypt ? (len >= mic ? len - mic : 0) : len + mic;
        }
        if (status == ALT_OK)
            status = run_staged(b, decrypt, impl, out_off, handled);
        free(out_off);
        if (status != ALT_OK) {
            free(handled);
            free(table);
            return status;
        }
    }

    alt_ccm_job jobs[CHUNK];
    size_t frame_of[CHUNK];
    for (size_t start = done; start < b->n; start += CHUNK) {
        size_t count = 0;
        for (size_t i = start; i < b->n && i < start + CHUNK; i++) {
            const uint8_t *in, *aad;
            size_t len, aad_len;
            span(&b->in, i, &in, &len);
            span(&b->aad, i, &aad, &aad_len);
            if (decrypt && len < mic) {
                b->ok[i] = 0;
                continue;
            }
            size_t msg_len = decrypt ? len - mic : len;
            if (handled && handled[i]) {
                out_pos += decrypt ? msg_len : msg_len + mic;
                continue;
            }
            const uint8_t *key;
            const alt_aes128_key *ks = NULL;
            if (b->key_index) {
                size_t k = (size_t)b->key_index[i];
                key = b->keys + 16 * k;
                ks = table ? &table[k] : NULL;
            } else if (b->key_count == 1) {
                key = b->keys;
                ks = &single;
            } else {
                key = b->keys + 16 * i;
            }
            prepare(&jobs[count], key, ks, b->nonces + i * b->nonce_len, b->nonce_len, aad, aad_len, in,
                    msg_len, b->out ? b->out + out_pos : NULL, mic, decrypt);
            frame_of[count++] = i;
            out_pos += decrypt ? msg_len : msg_len + mic;
        }
        if (count)
            impl->ccm(jobs, count, decrypt);
        for (size_t c = 0; c < count; c++)
            b->ok[frame_of[c]] = jobs[c].ok;
    }
    free(handled);
    free(table);
    return ALT_OK;
}

int alt_ccm_encrypt_batch(const alt_ccm_batch *batch) { return run_batch(batch, false); }

int alt_ccm_decrypt_batch(const alt_ccm_batch *batch) { return run_batch(batch, true); }
