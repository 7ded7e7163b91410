/* IEEE 802.15.4 / ZigBee NWK / APS / ZCL OTA frames: layout and protection (see frames.h); the parser is
 * in frames_parse.c. */
#include "frames.h"

#include <stdlib.h>
#include <string.h>

#include "ccm.h"
#include "frames_wire.h"

/* Room for the widest header stack before the 127-byte limit is checked. */
#define WORK 320

/* One layer's CCM*: AAD bytes [aad, pay), message [pay, end), MIC written at end. The security control
 * byte at sc_pos carries the real level while the MAC is computed and goes on the air as sc_air. */
typedef struct protect_job {
    size_t aad, pay, end;
    unsigned mic, level;
    size_t sc_pos;
    uint8_t sc_air;
    uint8_t nonce[13];
} protect_job;


static void put_addr(uint8_t *p, uint8_t mode, uint64_t a)
{
    if (mode == ALT_FRAMES_ADDR_SHORT)
        put16(p, (uint16_t)a);
    else
        put64(p, a);
}

/* ---- builder: layout ---------------------------------------------------------------------------------- */

static int mac_layout(const alt_frames_mac *m, uint8_t *b, size_t *pos, protect_job *job)
{
    bool modes_ok = (m->dst_mode == 0 || m->dst_mode >= 2) && (m->src_mode == 0 || m->src_mode >= 2);
    if (m->frame_type > 3 || !modes_ok || m->frame_version > 1 || (m->security && m->frame_version != 1))
        return ALT_EINVAL;
    if (m->dst_mode == ALT_FRAMES_ADDR_SHORT && m->dst_addr > 0xffff)
        return ALT_EINVAL;
    if (m->src_mode == ALT_FRAMES_ADDR_SHORT && m->src_addr > 0xffff)
        return ALT_EINVAL;
    bool compress = m->pan_id_compression && m->dst_mode && m->src_mode;
    uint16_t fc = (uint16_t)(m->frame_type | m->security << 3 | m->frame_pending << 4 | m->ack_request << 5 |
                             compress << 6 | m->dst_mode << 10 | m->frame_version << 12 | m->src_mode << 14);
    size_t p = 0;
    put16(b, fc);
    b[2] = m->seq;
    p = 3;
    if (m->dst_mode) {
        put16(b + p, m->dst_pan);
        put_addr(b + p + 2, m->dst_mode, m->dst_addr);
        p += 2 + addr_len(m->dst_mode);
    }
    if (m->src_mode) {
        if (!compress) {
            put16(b + p, m->src_pan);
            p += 2;
        }
        put_addr(b + p, m->src_mode, m->src_addr);
        p += addr_len(m->src_mode);
    }
    if (m->security) {
        if (m->sec_level == 0 || m->sec_level > 7 || m->key_id_mode > 3 || m->src_mode != ALT_FRAMES_ADDR_EXT)
            return ALT_EINVAL;
        job->sc_pos = p;
        job->level = m->sec_level;
        job->sc_air = (uint8_t)(m->sec_level | m->key_id_mode << 3);
        b[p++] = job->sc_air;
        put32(b + p, m->frame_counter);
        p += 4;
        if (m->key_id_mode == 2) {
            put32(b + p, (uint32_t)m->key_source);
            p += 4;
        } else if (m->key_id_mode == 3) {
            put64(b + p, m->key_source);
            p += 8;
        }
        if (m->key_id_mode)
            b[p++] = m->key_index;
        put64_be(job->nonce, m->src_addr);
        put32_be(job->nonce + 8, m->frame_counter);
        job->nonce[12] = m->sec_level;
        job->mic = alt_frames_mic_len(m->sec_level);
        job->aad = 0;
    }
    if (m->frame_type == ALT_FRAMES_MAC_COMMAND)
        b[p++] = m->command_id;
    *pos = p;
    return ALT_OK;
}

/* ZigBee auxiliary security header (05-3474 4.5.1): security control with the level bits zeroed on the air,
 * frame counter, extended source (extended nonce), key sequence number (network key). */
static int zigbee_aux_layout(uint8_t level, uint8_t key_id, bool ext_nonce, uint32_t counter, uint64_t src,
                             uint8_t key_seq, uint8_t *b, size_t *pos, protect_job *job)
{
    if (level == 0 || level > 7 || key_id > 3 || !ext_nonce)
        return ALT_EINVAL;
    size_t p = *pos;
    job->sc_pos = p;
    job->level = level;
    job->sc_air = (uint8_t)(key_id << 3 | ext_nonce << 5);
    b[p++] = (uint8_t)(job->sc_air | level);   /* the real level while the MIC is computed */
    put32(b + p, counter);
    put64(b + p + 4, src);
    p += 12;
    if (key_id == ALT_FRAMES_KEY_NETWORK)
        b[p++] = key_seq;
    put64(job->nonce, src);
    put32(job->nonce + 8, counter);
    job->nonce[12] = (uint8_t)(job->sc_air | level);
    job->mic = alt_frames_mic_len(level);
    *pos = p;
    return ALT_OK;
}

static int nwk_layout(const alt_frames_nwk *n, uint8_t *b, size_t *pos, protect_job *job)
{
    if (n->frame_type > 3 || n->protocol_version > 15 || n->discover_route > 3 || n->source_route)
        return ALT_EINVAL;
    uint16_t fc = (uint16_t)(n->frame_type | n->protocol_version << 2 | n->discover_route << 6 |
                             n->multicast << 8 | n->security << 9 | n->has_dst_ieee << 11 |
                             n->has_src_ieee << 12 | n->end_device_initiator << 13);
    size_t p = *pos;
    job->aad = p;
    put16(b + p, fc);
    put16(b + p + 2, n->dst);
    put16(b + p + 4, n->src);
    b[p + 6] = n->radius;
    b[p + 7] = n->seq;
    p += 8;
    if (n->has_dst_ieee) {
        put64(b + p, n->dst_ieee);
        p += 8;
    }
    if (n->has_src_ieee) {
        put64(b + p, n->src_ieee);
        p += 8;
    }
    if (n->multicast)
        b[p++] = n->multicast_control;
    *pos = p;
    if (n->security)
        return zigbee_aux_layout(n->sec_level, n->key_id, n->ext_nonce, n->frame_counter, n->sec_src,
                                 n->key_seq, b, pos, job);
    return ALT_OK;
}

static int aps_layout(const alt_frames_aps *a, uint8_t *b, size_t *pos, protect_job *job, size_t *counter_pos)
{
    if (a->frame_type > 2 || a->delivery_mode == 1 || a->delivery_mode > 3 || a->extended_header)
        return ALT_EINVAL;
    uint8_t fc = (uint8_t)(a->frame_type | a->delivery_mode << 2 | a->ack_format << 4 | a->security << 5 |
                           a->ack_request << 6);
    size_t p = *pos;
    job->aad = p;
    b[p++] = fc;
    bool addressed = a->frame_type == 0 || (a->frame_type == 2 && !a->ack_format);
    if (addressed) {
        if (a->delivery_mode == 3) {
            put16(b + p, a->group);
            p += 2;
        } else {
            b[p++] = a->dst_endpoint;
        }
        put16(b + p, a->cluster);
        put16(b + p + 2, a->profile);
        b[p + 4] = a->src_endpoint;
        p += 5;
    }
    *counter_pos = p;
    b[p++] = a->counter;
    *pos = p;
    if (a->security) {
        int rc = zigbee_aux_layout(a->sec_level, a->key_id, a->ext_nonce, a->frame_counter, a->sec_src,
                                   a->key_seq, b, pos, job);
        if (rc)
            return rc;
    }
    if (a->frame_type == 1)
        b[(*pos)++] = a->command_id;
    return ALT_OK;
}

static size_t zcl_layout(const alt_frames_zcl *z, uint8_t *b, size_t p)
{
    b[p++] = (uint8_t)((z->frame_type & 3) | z->manufacturer_specific << 2 | z->server_to_client << 3 |
                       z->disable_default_response << 4);
    if (z->manufacturer_specific) {
        put16(b + p, z->manufacturer);
        p += 2;
    }
    b[p++] = z->seq;
    b[p++] = z->command;
    return p;
}

static size_t ota_image_id(const alt_frames_ota *o, uint8_t *b, size_t p)
{
    put16(b + p, o->manufacturer);
    put16(b + p + 2, o->image_type);
    put32(b + p + 4, o->file_version);
    return p + 8;
}

/* The command's fields; data bytes are left to the caller (Image Block Response SUCCESS). */
static int ota_layout(uint8_t command, const alt_frames_ota *o, uint8_t *b, size_t *pos)
{
    size_t p = *pos;
    switch (command) {
    case ALT_OTA_IMAGE_NOTIFY:
        if (o->field_control > 3)
            return ALT_EINVAL;
        b[p++] = o->field_control;
        b[p++] = o->query_jitter;
        if (o->field_control >= 1) {
            put16(b + p, o->manufacturer);
            p += 2;
        }
        if (o->field_control >= 2) {
            put16(b + p, o->image_type);
            p += 2;
        }
        if (o->field_control >= 3) {
            put32(b + p, o->file_version);
            p += 4;
        }
        break;
    case ALT_OTA_QUERY_NEXT_IMAGE_REQUEST:
        b[p++] = o->field_control;
        p = ota_image_id(o, b, p);
        if (o->field_control & 1) {
            put16(b + p, o->hardware_version);
            p += 2;
        }
        break;
    case ALT_OTA_QUERY_NEXT_IMAGE_RESPONSE:
        b[p++] = o->status;
        if (o->status == ALT_OTA_SUCCESS) {
            p = ota_image_id(o, b, p);
            put32(b + p, o->image_size);
            p += 4;
        }
        break;
    case ALT_OTA_IMAGE_BLOCK_REQUEST:
        b[p++] = o->field_control;
        p = ota_image_id(o, b, p);
        put32(b + p, o->file_offset);
        b[p + 4] = o->data_size;
        p += 5;
        if (o->field_control & 1) {
            put64(b + p, o->request_node);
            p += 8;
        }
        if (o->field_control & 2) {
            put16(b + p, o->min_block_period);
            p += 2;
        }
        break;
    case ALT_OTA_IMAGE_BLOCK_RESPONSE:
        b[p++] = o->status;
        if (o->status == ALT_OTA_SUCCESS) {
            p = ota_image_id(o, b, p);
            put32(b + p, o->file_offset);
            b[p + 4] = o->data_size;
            p += 5;
            if (o->data_size && !o->data)
                return ALT_EINVAL;
        } else if (o->status == ALT_OTA_WAIT_FOR_DATA) {
            put32(b + p, o->current_time);
            put32(b + p + 4, o->request_time);
            put16(b + p + 8, o->min_block_period);
            p += 10;
        }
        break;
    case ALT_OTA_UPGRADE_END_REQUEST:
        b[p++] = o->status;
        p = ota_image_id(o, b, p);
        break;
    case ALT_OTA_UPGRADE_END_RESPONSE:
        p = ota_image_id(o, b, p);
        put32(b + p, o->current_time);
        put32(b + p + 4, o->request_time);
        p += 8;
        break;
    default:
        return ALT_EINVAL;   /* Image Page Request and unknown commands: give them as a raw ZCL payload */
    }
    *pos = p;
    return ALT_OK;
}

/* Protection jobs of one frame, innermost first, and where the FCS goes. */
/* Where the fields that change from one block to the next sit in a laid-out frame (0: not present). */
typedef struct field_pos {
    size_t nwk_seq, aps_counter, zcl_seq, ota_offset, data;
} field_pos;

typedef struct frame_plan {
    protect_job job[3];
    int key_of[3];          /* 0 MAC, 1 NWK, 2 APS */
    int njobs;
    size_t len;             /* PSDU length including the FCS */
    field_pos at;
} frame_plan;

/* Writes f in the clear into b (WORK bytes) with every MIC position reserved, and plans its protection. */
static int layout(const alt_frames_frame *f, uint8_t *b, frame_plan *plan)
{
    /* Jobs go straight into the plan, innermost first; unprotected layers write into a spare slot. */
    bool aps_sec = f->has_aps && f->aps.security, nwk_sec = f->has_nwk && f->nwk.security;
    int njobs = 0;
    protect_job spare;
    protect_job *aps = aps_sec ? &plan->job[njobs++] : &spare;
    protect_job *nwk = nwk_sec ? &plan->job[njobs++] : &spare;
    protect_job *mac = f->mac.security ? &plan->job[njobs++] : &spare;
    size_t p = 0, mac_pay, nwk_pay = 0, aps_pay = 0;
    int rc = mac_layout(&f->mac, b, &p, mac);
    if (rc)
        return rc;
    mac_pay = p;
    memset(&plan->at, 0, sizeof plan->at);
    if (f->has_nwk) {
        plan->at.nwk_seq = p + 7;
        if ((rc = nwk_layout(&f->nwk, b, &p, nwk)))
            return rc;
        nwk_pay = p;
    }
    if (f->has_aps) {
        if (!f->has_nwk)
            return ALT_EINVAL;
        if ((rc = aps_layout(&f->aps, b, &p, aps, &plan->at.aps_counter)))
            return rc;
        aps_pay = p;
    }
    if (f->has_zcl) {
        if (!f->has_aps)
            return ALT_EINVAL;
        plan->at.zcl_seq = p + (f->zcl.manufacturer_specific ? 3 : 1);
        p = zcl_layout(&f->zcl, b, p);
    }
    const uint8_t *tail = f->payload;
    size_t tail_len = f->payload_len;
    if (f->has_ota) {
        if (!f->has_zcl)
            return ALT_EINVAL;
        if ((rc = ota_layout(f->zcl.command, &f->ota, b, &p)))
            return rc;
        if (f->zcl.command == ALT_OTA_IMAGE_BLOCK_RESPONSE && f->ota.status == ALT_OTA_SUCCESS) {
            tail = f->ota.data;
            tail_len = f->ota.data_size;
            plan->at.ota_offset = p - 5;
            plan->at.data = p;
        } else {
            tail_len = 0;
        }
    }
    size_t mics = (aps_sec ? aps->mic : 0) + (nwk_sec ? nwk->mic : 0) + (f->mac.security ? mac->mic : 0);
    if (p + tail_len + mics + ALT_FRAMES_FCS_LEN > ALT_FRAMES_MAX_PSDU)
        return ALT_ERANGE;
    if (tail_len && !tail)
        return ALT_EINVAL;
    if (tail_len)
        memcpy(b + p, tail, tail_len);
    p += tail_len;

    njobs = 0;
    if (aps_sec) {
        aps->pay = aps_pay;
        aps->end = p;
        p += aps->mic;
        plan->key_of[njobs++] = 2;
    }
    if (nwk_sec) {
        nwk->pay = nwk_pay;
        nwk->end = p;
        p += nwk->mic;
        plan->key_of[njobs++] = 1;
    }
    if (f->mac.security) {
        /* levels 1-3 authenticate the payload without encrypting it: all of it is AAD */
        mac->pay = mac->level < 4 ? p : mac_pay;
        mac->end = p;
        p += mac->mic;
        plan->key_of[njobs++] = 0;
    }
    plan->njobs = njobs;
    plan->len = p + ALT_FRAMES_FCS_LEN;
    return ALT_OK;
}

/* CCM* of one job in place (through a copy: alt_ccm_encrypt wants distinct buffers); then the security
 * control byte takes its over-the-air value. */
static void protect(const protect_job *j, const uint8_t *key, uint8_t *b)
{
    uint8_t pt[WORK];
    size_t n = j->end - j->pay;
    memcpy(pt, b + j->pay, n);
    alt_ccm_encrypt(key, j->nonce, 13, b + j->aad, j->pay - j->aad, pt, n, j->mic, b + j->pay);
    b[j->sc_pos] = j->sc_air;
}

static void finish_fcs(uint8_t *b, size_t len) { put16(b + len - 2, fcs(b, len - 2)); }

int alt_frames_build(const alt_frames_frame *f, const uint8_t *mac_key, const uint8_t *nwk_key,
                     const uint8_t *aps_key, uint8_t *out, size_t cap, size_t *out_len)
{
    if (!f || !out || !out_len)
        return ALT_EINVAL;
    uint8_t b[WORK];
    frame_plan plan;
    int rc = layout(f, b, &plan);
    if (rc)
        return rc;
    if (plan.len > cap)
        return ALT_ERANGE;
    const uint8_t *keys[3] = {mac_key, nwk_key, aps_key};
    for (int i = 0; i < plan.njobs; i++)
        if (!keys[plan.key_of[i]])
            return ALT_EINVAL;
    for (int i = 0; i < plan.njobs; i++)
        protect(&plan.job[i], keys[plan.key_of[i]], b);
    finish_fcs(b, plan.len);
    memcpy(out, b, plan.len);
    *out_len = plan.len;
    return ALT_OK;
}

/* ---- batch builder ---------------------------------------------------------------------------------- */

/* Runs job `layer` (0 MAC, 1 NWK) of every frame that has it as one CCM* batch: AAD and message are packed
 * back to back, encrypted together, and copied back into the frames. */
static int protect_layer_batch(int layer, size_t n, const frame_plan *plans, uint8_t *out, size_t stride,
                               const uint8_t *keys, size_t key_count, const int64_t *key_index,
                               uint8_t *scratch, int64_t *aad_off, int64_t *msg_off, int64_t *idx,
                               uint8_t *nonces, uint8_t *ok, size_t *which, const protect_job **jobs)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < plans[i].njobs; k++)
            if (plans[i].key_of[k] == layer) {
                which[m] = i;
                jobs[m++] = &plans[i].job[k];
            }
    if (m == 0)
        return ALT_OK;
    if (!keys)
        return ALT_EINVAL;
    unsigned mic = jobs[0]->mic;
    for (size_t t = 1; t < m; t++)
        if (jobs[t]->mic != mic)
            return ALT_EINVAL;   /* one MIC length per batch; callers mixing levels build frames singly */
    uint8_t *aad = scratch, *msg = scratch + m * ALT_FRAMES_MAX_PSDU, *ct = msg + m * ALT_FRAMES_MAX_PSDU;
    aad_off[0] = msg_off[0] = 0;
    for (size_t t = 0; t < m; t++) {
        const protect_job *j = jobs[t];
        const uint8_t *f = out + which[t] * stride;
        memcpy(aad + aad_off[t], f + j->aad, j->pay - j->aad);
        aad_off[t + 1] = aad_off[t] + (int64_t)(j->pay - j->aad);
        memcpy(msg + msg_off[t], f + j->pay, j->end - j->pay);
        msg_off[t + 1] = msg_off[t] + (int64_t)(j->end - j->pay);
        memcpy(nonces + 13 * t, j->nonce, 13);
        idx[t] = key_index ? key_index[which[t]] : 0;
    }
    alt_ccm_batch batch = {
        .n = m, .keys = keys, .key_count = key_index ? key_count : 1, .key_index = key_index ? idx : NULL,
        .nonces = nonces, .nonce_len = 13, .aad = {aad, aad_off, 0}, .in = {msg, msg_off, 0}, .out = ct,
        .mic_len = mic, .ok = ok,
    };
    /* Frames of one shape (the usual case: every block but the last) take the fixed-stride kernels. */
    size_t aad_len = (size_t)aad_off[1], msg_len = (size_t)msg_off[1];
    if ((size_t)aad_off[m] == m * aad_len && (size_t)msg_off[m] == m * msg_len) {
        bool uniform = true;
        for (size_t t = 1; t < m && uniform; t++)
            uniform = (size_t)(aad_off[t + 1] - aad_off[t]) == aad_len && (size_t)(msg_off[t + 1] - msg_off[t]) == msg_len;
        if (uniform) {
            batch.aad = (alt_ccm_spans){aad, NULL, aad_len};
            batch.in = (alt_ccm_spans){msg, NULL, msg_len};
        }
    }
    int rc = alt_ccm_encrypt_batch(&batch);
    if (rc)
        return rc;
    size_t c = 0;
    for (size_t t = 0; t < m; t++) {
        const protect_job *j = jobs[t];
        uint8_t *f = out + which[t] * stride;
        size_t len = j->end - j->pay + mic;
        memcpy(f + j->pay, ct + c, len);
        c += len;
        f[j->sc_pos] = j->sc_air;
    }
    return ALT_OK;
}

/* Frames per round of the batch builder: enough to keep the interleaved AES kernels busy, small enough
 * for its workspace to live on the stack. */
#define CHUNK 64

int alt_frames_build_batch(const alt_frames_frame *frames, size_t n, const uint8_t *mac_keys,
                           const uint8_t *nwk_keys, size_t key_count, const int64_t *key_index, uint8_t *out,
                           size_t stride, uint16_t *lens, size_t *failed)
{
    if (failed)
        *failed = 0;
    if (n == 0)
        return ALT_OK;
    if (!frames || !out || !lens || key_count == 0)
        return ALT_EINVAL;
    for (size_t i = 0; key_index && i < n; i++)
        if (key_index[i] < 0 || (size_t)key_index[i] >= key_count) {
            if (failed)
                *failed = i;
            return ALT_EINVAL;
        }
    frame_plan plans[CHUNK];
    uint8_t scratch[CHUNK * 3 * ALT_FRAMES_MAX_PSDU], nonces[CHUNK * 13], ok[CHUNK];
    int64_t offs[3 * (CHUNK + 1)];
    size_t which[CHUNK];
    const protect_job *jobs[CHUNK];
    for (size_t base = 0; base < n; base += CHUNK) {
        size_t m = n - base < CHUNK ? n - base : CHUNK;
        uint8_t *o = out + base * stride;
        for (size_t i = 0; i < m; i++) {
            uint8_t b[WORK];
            int rc = layout(&frames[base + i], b, &plans[i]);
            if (rc == ALT_OK && plans[i].len > stride)
                rc = ALT_ERANGE;
            for (int k = 0; rc == ALT_OK && k < plans[i].njobs; k++)
                if (plans[i].key_of[k] == 2)
                    rc = ALT_EINVAL;
            if (rc) {
                if (failed)
                    *failed = base + i;
                return rc;
            }
            memcpy(o + i * stride, b, plans[i].len - ALT_FRAMES_FCS_LEN);
            lens[base + i] = (uint16_t)plans[i].len;
        }
        for (int layer = 1; layer >= 0; layer--) {   /* NWK inside MAC */
            int rc = protect_layer_batch(layer, m, plans, o, stride, layer ? nwk_keys : mac_keys, key_count,
                                         key_index ? key_index + base : NULL, scratch, offs, offs + CHUNK + 1,
                                         offs + 2 * (CHUNK + 1), nonces, ok, which, jobs);
            if (rc) {
                if (failed)
                    *failed = base;
                return rc;
            }
        }
        for (size_t i = 0; i < m; i++)
            finish_fcs(o + i * stride, plans[i].len);
    }
    return ALT_OK;
}

/* ---- Image Block Responses from a template ----------------------------------------------------------- */

/* One fixed-shape CCM* batch over packed AAD and messages (m frames); ciphertext-then-MIC into ct. */
static int ccm_fixed(size_t m, const uint8_t *keys, size_t key_count, const int64_t *idx, const uint8_t *nonces,
                     const uint8_t *aad, size_t aad_len, const uint8_t *msg, size_t msg_len, unsigned mic,
                     uint8_t *ct, uint8_t *ok)
{
    alt_ccm_batch batch = {
        .n = m, .keys = keys, .key_count = idx ? key_count : 1, .key_index = idx, .nonces = nonces,
        .nonce_len = 13, .aad = {aad, NULL, aad_len}, .in = {msg, NULL, msg_len}, .out = ct, .mic_len = mic,
        .ok = ok,
    };
    return alt_ccm_encrypt_batch(&batch);
}

/* The byte at frame position pos, in whichever piece of a frame being assembled holds it. */
typedef struct pieces {
    uint8_t *head, *aad, *msg;   /* [0, aad_at), [aad_at, msg_at), [msg_at, ...) */
    size_t aad_at, msg_at;
} pieces;

static inline uint8_t *piece(const pieces *p, size_t pos)
{
    return pos >= p->msg_at ? p->msg + (pos - p->msg_at) : pos >= p->aad_at ? p->aad + (pos - p->aad_at) : p->head + pos;
}

/* Patches frame i's changing fields and data into its pieces. */
static void patch_ibr(const pieces *p, const frame_plan *plan, const protect_job *mac, const protect_job *nwk,
                      const alt_frames_ibr_batch *b, size_t i)
{
    uint8_t seq = b->seqs[i];
    uint32_t counter = b->counters[i];
    *piece(p, 2) = seq;
    if (mac) {
        uint8_t *c = piece(p, mac->sc_pos + 1);
        put32(c, counter);
    }
    *piece(p, plan->at.nwk_seq) = seq;
    if (nwk)
        put32(piece(p, nwk->sc_pos + 1), counter);
    *piece(p, plan->at.aps_counter) = seq;
    *piece(p, plan->at.zcl_seq) = seq;
    put32(piece(p, plan->at.ota_offset), b->offsets[i]);
    if (b->data_len)
        memcpy(piece(p, plan->at.data), b->data + i * b->data_stride, b->data_len);
}

/* FCS of n frames of len bytes, frame i at out + i * stride. CRC-16/KERMIT starts from a zero register and
 * adds nothing at the end, so zero bytes in front of a message leave its CRC unchanged: with every frame's
 * bytes after its body zeroed, the stride-sized block that ends where frame j's body ends (the tail of
 * frame j-1, then body j) has frame j's CRC, and the CRC family computes all those blocks in one batch.
 * Frames are done last to first so that a written FCS is never inside a block still to be computed. */
static int fcs_fixed(uint8_t *out, size_t n, size_t stride, size_t len)
{
    enum { FCS_CHUNK = 512 };
    uint16_t crc[FCS_CHUNK];
    size_t body = len - ALT_FRAMES_FCS_LEN;
    if (n == 0)
        return ALT_OK;
    for (size_t i = 0; i < n; i++)
        memset(out + i * stride + body, 0, stride - body);
    for (size_t end = n; end > 1;) {
        size_t start = end - 1 > FCS_CHUNK ? end - FCS_CHUNK : 1;   /* frames [start, end), all >= 1 */
        int rc = alt_crc_blocks(ALT_CRC16_KERMIT, out + (start - 1) * stride + body, (end - start) * stride, stride,
                                crc, FCS_CHUNK);
        if (rc)
            return rc;
        for (size_t j = start; j < end; j++)
            put16(out + j * stride + body, crc[j - start]);
        end = start;
    }
    finish_fcs(out, len);
    return ALT_OK;
}

int alt_frames_build_ibr_batch(const alt_frames_ibr_batch *b, size_t *len_out)
{
    static const uint8_t zeros[256];
    if (!b || !b->tmpl || !len_out)
        return ALT_EINVAL;
    if (b->n && (!b->out || !b->offsets || !b->counters || !b->seqs || (b->data_len && !b->data)))
        return ALT_EINVAL;
    if (b->data_len > 255 || b->key_count == 0)
        return ALT_EINVAL;
    for (size_t i = 0; b->key_index && i < b->n; i++)
        if (b->key_index[i] < 0 || (size_t)b->key_index[i] >= b->key_count)
            return ALT_EINVAL;
    alt_frames_frame t = *b->tmpl;
    if (!t.has_nwk || !t.has_aps || !t.has_ota || t.zcl.command != ALT_OTA_IMAGE_BLOCK_RESPONSE ||
        t.ota.status != ALT_OTA_SUCCESS || t.aps.security)
        return ALT_EINVAL;
    t.ota.data = zeros;
    t.ota.data_size = (uint8_t)b->data_len;
    uint8_t tb[WORK];
    frame_plan plan;
    int rc = layout(&t, tb, &plan);
    if (rc)
        return rc;
    if (plan.len > b->stride)
        return ALT_ERANGE;
    const protect_job *mac = NULL, *nwk = NULL;
    for (int k = 0; k < plan.njobs; k++) {
        if (plan.key_of[k] == 0)
            mac = &plan.job[k];
        else
            nwk = &plan.job[k];
    }
    if ((mac && !b->mac_keys) || (nwk && !b->nwk_keys))
        return ALT_EINVAL;
    *len_out = plan.len;

    /* NWK protection reads its AAD and message straight from packed copies of the template; the MAC layer
     * (bridge link) then protects the assembled NWK frames. */
    size_t aad_at = nwk ? nwk->aad : plan.len, msg_at = nwk ? nwk->pay : plan.len;
    size_t aad_len = msg_at - aad_at, msg_len = nwk ? nwk->end - nwk->pay : 0, nwk_mic = nwk ? nwk->mic : 0;
    size_t clear_len = plan.len - ALT_FRAMES_FCS_LEN - (mac ? mac->mic : 0) - nwk_mic;
    /* Rounds of IBR_CHUNK frames: the fixed-shape CCM* kernels leave the last few frames of each batch
     * (whose 16-byte over-reads could leave the buffers) to the general kernel, so longer rounds are faster;
     * the workspace is on the heap, where a round this size is reused from call to call. */
    enum { IBR_CHUNK = 256 };
    size_t rounds = b->n < IBR_CHUNK ? b->n : IBR_CHUNK;
    uint8_t *work = malloc(rounds * (3 * ALT_FRAMES_MAX_PSDU + 13 + 1) + 1);
    if (!work)
        return ALT_ENOMEM;
    uint8_t *aad = work, *msg = aad + rounds * ALT_FRAMES_MAX_PSDU, *ct = msg + rounds * ALT_FRAMES_MAX_PSDU;
    uint8_t *nonces = ct + rounds * ALT_FRAMES_MAX_PSDU, *ok = nonces + rounds * 13;
    size_t data_at = plan.at.data - msg_at;   /* the data is the end of the NWK message: copy only its head */
    for (size_t base = 0; base < b->n; base += IBR_CHUNK) {
        size_t m = b->n - base < IBR_CHUNK ? b->n - base : IBR_CHUNK;
        const int64_t *idx = b->key_index ? b->key_index + base : NULL;
        for (size_t i = 0; i < m; i++) {
            uint8_t *o = b->out + (base + i) * b->stride;
            pieces p = {o, aad + i * aad_len, msg + i * msg_len, aad_at, msg_at};
            if (!nwk) {
                memcpy(o, tb, clear_len);
            } else {
                memcpy(o, tb, aad_at);
                memcpy(p.aad, tb + aad_at, aad_len);
                memcpy(p.msg, tb + msg_at, data_at);
                memcpy(nonces + 13 * i, nwk->nonce, 13);
                put32(nonces + 13 * i + 8, b->counters[base + i]);
            }
            patch_ibr(&p, &plan, mac, nwk, b, base + i);
        }
        if (nwk) {
            rc = ccm_fixed(m, b->nwk_keys, b->key_count, idx, nonces, aad, aad_len, msg, msg_len,
                           (unsigned)nwk_mic, ct, ok);
            if (rc)
                break;
            for (size_t i = 0; i < m; i++) {
                uint8_t *o = b->out + (base + i) * b->stride;
                memcpy(o + aad_at, aad + i * aad_len, aad_len);
                o[nwk->sc_pos] = nwk->sc_air;
                memcpy(o + msg_at, ct + i * (msg_len + nwk_mic), msg_len + nwk_mic);
            }
        }
        if (mac) {
            size_t mac_aad = mac->pay, mac_msg = mac->end - mac->pay;
            for (size_t i = 0; i < m; i++) {
                const uint8_t *o = b->out + (base + i) * b->stride;
                memcpy(aad + i * mac_aad, o, mac_aad);
                memcpy(msg + i * mac_msg, o + mac->pay, mac_msg);
                memcpy(nonces + 13 * i, mac->nonce, 13);
                put32_be(nonces + 13 * i + 8, b->counters[base + i]);
            }
            rc = ccm_fixed(m, b->mac_keys, b->key_count, idx, nonces, aad, mac_aad, msg, mac_msg, mac->mic, ct, ok);
            if (rc)
                break;
            for (size_t i = 0; i < m; i++)
                memcpy(b->out + (base + i) * b->stride + mac->pay, ct + i * (mac_msg + mac->mic),
                       mac_msg + mac->mic);
        }
    }
    free(work);
    return rc ? rc : fcs_fixed(b->out, b->n, b->stride, plan.len);
}
