/* IEEE 802.15.4 / ZigBee NWK / APS / ZCL OTA frames: parsing and removing protection (see frames.h). */
#include <stdlib.h>
#include <string.h>

#include "ccm.h"
#include "frames_wire.h"

/* ---- parser ------------------------------------------------------------------------------------------- */

/* A MAC or NWK decryption the batch parser runs later, with many frames' CCM* interleaved. */
typedef struct deferred {
    const uint8_t *key;
    uint8_t nonce[13];
    size_t aad, pay, end;     /* AAD [aad, pay), ciphertext then MIC [pay, end) */
    unsigned mic;
    size_t sc_pos;
    uint8_t sc_used;          /* the security control byte as the sender used it */
    uint8_t *sec;             /* the layer's status, settled when the MIC is checked */
} deferred;

typedef struct cursor {
    uint8_t *b;
    size_t pos, end;
    alt_frames_status *st;
    bool defer;               /* batch mode: record MAC and NWK decryption in job instead of doing it */
    bool pending;
    deferred job;
} cursor;

static bool need(cursor *c, size_t n, const char *what)
{
    if (c->end - c->pos >= n)
        return true;
    if (!c->st->error) {
        c->st->error = what;
        c->st->error_offset = c->pos;
    }
    return false;
}

static int malformed(cursor *c, const char *what)
{
    if (!c->st->error) {
        c->st->error = what;
        c->st->error_offset = c->pos;
    }
    return ALT_EINVAL;
}

/* Decrypts [pay, end - mic) in place and checks the MIC; the security control byte at sc_pos takes the
 * level the sender used while the MIC is checked, then goes back to what was received. In batch mode a
 * deferrable layer is only recorded (its status provisionally OK; the batch settles it). */
static void unprotect(cursor *c, const uint8_t *key, const uint8_t nonce[13], size_t aad, size_t pay, size_t end,
                      unsigned mic, size_t sc_pos, uint8_t sc_used, uint8_t *sec, bool deferrable)
{
    if (c->defer && deferrable) {
        deferred *j = &c->job;
        j->key = key;
        memcpy(j->nonce, nonce, 13);
        j->aad = aad;
        j->pay = pay;
        j->end = end;
        j->mic = mic;
        j->sc_pos = sc_pos;
        j->sc_used = sc_used;
        j->sec = sec;
        c->pending = true;
        *sec = ALT_FRAMES_SEC_OK;
        return;
    }
    uint8_t *b = c->b, received = b[sc_pos];
    b[sc_pos] = sc_used;
    int rc = alt_ccm_decrypt(key, nonce, 13, b + aad, pay - aad, b + pay, end - pay, mic, b + pay);
    b[sc_pos] = received;
    *sec = rc == ALT_OK ? ALT_FRAMES_SEC_OK : ALT_FRAMES_SEC_BAD_MIC;
}

static int parse_mac(cursor *c, const alt_frames_keys *k, alt_frames_frame *f)
{
    alt_frames_mac *m = &f->mac;
    uint8_t *b = c->b;
    if (!need(c, 3, "IEEE 802.15.4 header truncated (frame control, sequence number)"))
        return ALT_EINVAL;
    uint16_t fc = get16(b);
    m->frame_type = fc & 7;
    m->security = fc >> 3 & 1;
    m->frame_pending = fc >> 4 & 1;
    m->ack_request = fc >> 5 & 1;
    m->pan_id_compression = fc >> 6 & 1;
    m->dst_mode = fc >> 10 & 3;
    m->frame_version = fc >> 12 & 3;
    m->src_mode = fc >> 14 & 3;
    m->seq = b[2];
    c->pos = 3;
    if (m->frame_type > 3)
        return malformed(c, "IEEE 802.15.4 frame type is reserved (or 802.15.4-2015, not supported)");
    if (m->frame_version > 1)
        return malformed(c, "IEEE 802.15.4-2015 frames (frame version 2) are not supported");
    if (m->dst_mode == 1 || m->src_mode == 1)
        return malformed(c, "IEEE 802.15.4 address mode 1 is reserved");
    if (m->dst_mode) {
        if (!need(c, 2 + addr_len(m->dst_mode), "IEEE 802.15.4 destination address truncated"))
            return ALT_EINVAL;
        m->dst_pan = get16(b + c->pos);
        m->dst_addr = m->dst_mode == ALT_FRAMES_ADDR_SHORT ? get16(b + c->pos + 2) : get64(b + c->pos + 2);
        c->pos += 2 + addr_len(m->dst_mode);
    }
    if (m->src_mode) {
        bool compress = m->pan_id_compression && m->dst_mode;
        if (!need(c, (compress ? 0 : 2) + addr_len(m->src_mode), "IEEE 802.15.4 source address truncated"))
            return ALT_EINVAL;
        if (compress) {
            m->src_pan = m->dst_pan;
        } else {
            m->src_pan = get16(b + c->pos);
            c->pos += 2;
        }
        m->src_addr = m->src_mode == ALT_FRAMES_ADDR_SHORT ? get16(b + c->pos) : get64(b + c->pos);
        c->pos += addr_len(m->src_mode);
    }
    size_t sc_pos = c->pos;
    if (m->security) {
        if (m->frame_version == 0)
            return malformed(c, "IEEE 802.15.4-2003 security is not supported (frame version 0)");
        if (!need(c, 5, "IEEE 802.15.4 auxiliary security header truncated"))
            return ALT_EINVAL;
        m->sec_level = b[c->pos] & 7;
        m->key_id_mode = b[c->pos] >> 3 & 3;
        m->frame_counter = get32(b + c->pos + 1);
        c->pos += 5;
        size_t kid = m->key_id_mode == 0 ? 0 : m->key_id_mode == 1 ? 1 : m->key_id_mode == 2 ? 5 : 9;
        if (!need(c, kid, "IEEE 802.15.4 key identifier truncated"))
            return ALT_EINVAL;
        if (m->key_id_mode == 2)
            m->key_source = get32(b + c->pos);
        else if (m->key_id_mode == 3)
            m->key_source = get64(b + c->pos);
        if (kid)
            m->key_index = b[c->pos + kid - 1];
        c->pos += kid;
        if (m->sec_level == 0)
            return malformed(c, "IEEE 802.15.4 security enabled with security level 0");
    }
    if (m->frame_type == ALT_FRAMES_MAC_COMMAND) {
        if (!need(c, 1, "IEEE 802.15.4 command frame without a command identifier"))
            return ALT_EINVAL;
        m->command_id = b[c->pos++];
    }
    if (!m->security)
        return ALT_OK;
    unsigned mic = alt_frames_mic_len(m->sec_level);
    if (!need(c, mic, "IEEE 802.15.4 frame shorter than its MIC"))
        return ALT_EINVAL;
    if (!k || !k->mac_key) {
        f->payload = b + c->pos;
        f->payload_len = c->end - c->pos;
        c->st->mac_sec = ALT_FRAMES_SEC_NO_KEY;
        return ALT_OK;
    }
    uint64_t src = m->src_addr;
    if (m->src_mode != ALT_FRAMES_ADDR_EXT) {
        if (!k->has_mac_nonce_src)
            return malformed(c, "IEEE 802.15.4 secured frame from a short address: the nonce needs the "
                                "sender's extended address (mac_nonce_src)");
        src = k->mac_nonce_src;
    }
    uint8_t nonce[13];
    put64_be(nonce, src);
    put32_be(nonce + 8, m->frame_counter);
    nonce[12] = m->sec_level;
    size_t pay = m->sec_level < 4 ? c->end - mic : c->pos;
    unprotect(c, k->mac_key, nonce, 0, pay, c->end, mic, sc_pos, b[sc_pos], &c->st->mac_sec, true);
    c->end -= mic;
    return c->st->mac_sec == ALT_FRAMES_SEC_OK ? ALT_OK : ALT_EAUTH;
}

/* The ZigBee auxiliary header at c->pos; decrypts [after it, end - MIC) with the layer's key. */
static int parse_zigbee_aux(cursor *c, const alt_frames_keys *k, const uint8_t *key, size_t aad,
                            uint64_t fallback_src, bool has_fallback, uint8_t *sec_level, uint8_t *key_id,
                            bool *ext_nonce, uint32_t *counter, uint64_t *src, uint8_t *key_seq,
                            uint8_t *sec_status, bool deferrable, const char *layer_truncated)
{
    uint8_t *b = c->b;
    if (!need(c, 5, layer_truncated))
        return ALT_EINVAL;
    size_t sc_pos = c->pos;
    uint8_t sc = b[sc_pos];
    *key_id = sc >> 3 & 3;
    *ext_nonce = sc >> 5 & 1;
    *counter = get32(b + c->pos + 1);
    c->pos += 5;
    if (*ext_nonce) {
        if (!need(c, 8, layer_truncated))
            return ALT_EINVAL;
        *src = get64(b + c->pos);
        c->pos += 8;
    } else if (has_fallback) {
        *src = fallback_src;
    }
    if (*key_id == ALT_FRAMES_KEY_NETWORK) {
        if (!need(c, 1, layer_truncated))
            return ALT_EINVAL;
        *key_seq = b[c->pos++];
    }
    uint8_t level = sc & 7 ? sc & 7 : (k && k->zigbee_level ? k->zigbee_level : ALT_FRAMES_ZIGBEE_LEVEL);
    *sec_level = level;
    unsigned mic = alt_frames_mic_len(level);
    if (!need(c, mic, "ZigBee secured frame shorter than its MIC"))
        return ALT_EINVAL;
    if (!key) {
        *sec_status = ALT_FRAMES_SEC_NO_KEY;
        return ALT_OK;
    }
    if (!*ext_nonce && !has_fallback)
        return malformed(c, "ZigBee secured frame without the sender's extended address for the nonce");
    uint8_t used = (uint8_t)((sc & ~7) | level), nonce[13];
    put64(nonce, *src);
    put32(nonce + 8, *counter);
    nonce[12] = used;
    size_t pay = level < 4 ? c->end - mic : c->pos;
    unprotect(c, key, nonce, aad, pay, c->end, mic, sc_pos, used, sec_status, deferrable);
    c->end -= mic;
    return *sec_status == ALT_FRAMES_SEC_OK ? ALT_OK : ALT_EAUTH;
}

static int parse_nwk(cursor *c, const alt_frames_keys *k, alt_frames_frame *f)
{
    alt_frames_nwk *n = &f->nwk;
    uint8_t *b = c->b;
    size_t start = c->pos;
    if (!need(c, 8, "ZigBee NWK header truncated"))
        return ALT_EINVAL;
    uint16_t fc = get16(b + c->pos);
    n->frame_type = fc & 3;
    n->protocol_version = fc >> 2 & 15;
    n->discover_route = fc >> 6 & 3;
    n->multicast = fc >> 8 & 1;
    n->security = fc >> 9 & 1;
    n->source_route = fc >> 10 & 1;
    n->has_dst_ieee = fc >> 11 & 1;
    n->has_src_ieee = fc >> 12 & 1;
    n->end_device_initiator = fc >> 13 & 1;
    n->dst = get16(b + c->pos + 2);
    n->src = get16(b + c->pos + 4);
    n->radius = b[c->pos + 6];
    n->seq = b[c->pos + 7];
    c->pos += 8;
    if (n->has_dst_ieee) {
        if (!need(c, 8, "ZigBee NWK destination IEEE address truncated"))
            return ALT_EINVAL;
        n->dst_ieee = get64(b + c->pos);
        c->pos += 8;
    }
    if (n->has_src_ieee) {
        if (!need(c, 8, "ZigBee NWK source IEEE address truncated"))
            return ALT_EINVAL;
        n->src_ieee = get64(b + c->pos);
        c->pos += 8;
    }
    if (n->multicast) {
        if (!need(c, 1, "ZigBee NWK multicast control truncated"))
            return ALT_EINVAL;
        n->multicast_control = b[c->pos++];
    }
    if (n->source_route) {
        if (!need(c, 2, "ZigBee NWK source route truncated"))
            return ALT_EINVAL;
        n->relay_count = b[c->pos];
        n->relay_index = b[c->pos + 1];
        c->pos += 2;
        if (!need(c, 2 * (size_t)n->relay_count, "ZigBee NWK relay list truncated"))
            return ALT_EINVAL;
        c->pos += 2 * (size_t)n->relay_count;
    }
    if (!n->security)
        return ALT_OK;
    return parse_zigbee_aux(c, k, k ? k->nwk_key : NULL, start, n->src_ieee, n->has_src_ieee, &n->sec_level,
                            &n->key_id, &n->ext_nonce, &n->frame_counter, &n->sec_src, &n->key_seq,
                            &c->st->nwk_sec, true, "ZigBee NWK auxiliary security header truncated");
}

static int parse_aps(cursor *c, const alt_frames_keys *k, alt_frames_frame *f)
{
    alt_frames_aps *a = &f->aps;
    uint8_t *b = c->b;
    size_t start = c->pos;
    if (!need(c, 2, "ZigBee APS header truncated"))
        return ALT_EINVAL;
    uint8_t fc = b[c->pos++];
    a->frame_type = fc & 3;
    a->delivery_mode = fc >> 2 & 3;
    a->ack_format = fc >> 4 & 1;
    a->security = fc >> 5 & 1;
    a->ack_request = fc >> 6 & 1;
    a->extended_header = fc >> 7 & 1;
    if (a->frame_type == 3)
        return malformed(c, "ZigBee APS frame type 3 (inter-PAN) is not supported");
    if (a->delivery_mode == 1)
        return malformed(c, "ZigBee APS delivery mode 1 is reserved");
    bool addressed = a->frame_type == 0 || (a->frame_type == 2 && !a->ack_format);
    if (addressed) {
        size_t dst = a->delivery_mode == 3 ? 2 : 1;
        if (!need(c, dst + 5, "ZigBee APS addressing fields truncated"))
            return ALT_EINVAL;
        if (dst == 2)
            a->group = get16(b + c->pos);
        else
            a->dst_endpoint = b[c->pos];
        c->pos += dst;
        a->cluster = get16(b + c->pos);
        a->profile = get16(b + c->pos + 2);
        a->src_endpoint = b[c->pos + 4];
        c->pos += 5;
    }
    if (!need(c, 1, "ZigBee APS counter missing"))
        return ALT_EINVAL;
    a->counter = b[c->pos++];
    if (a->extended_header) {
        if (!need(c, 1, "ZigBee APS extended header truncated"))
            return ALT_EINVAL;
        uint8_t efc = b[c->pos++];
        size_t more = (efc & 3) ? (a->frame_type == 2 ? 2 : 1) : 0;
        if (!need(c, more, "ZigBee APS extended header truncated"))
            return ALT_EINVAL;
        c->pos += more;
    }
    if (a->security) {
        int rc = parse_zigbee_aux(c, k, k ? k->aps_key : NULL, start, f->nwk.src_ieee, f->nwk.has_src_ieee,
                                  &a->sec_level, &a->key_id, &a->ext_nonce, &a->frame_counter, &a->sec_src,
                                  &a->key_seq, &c->st->aps_sec, false,
                                  "ZigBee APS auxiliary security header truncated");
        if (rc || c->st->aps_sec == ALT_FRAMES_SEC_NO_KEY)
            return rc;
    }
    if (a->frame_type == 1) {
        if (!need(c, 1, "ZigBee APS command frame without a command identifier"))
            return ALT_EINVAL;
        a->command_id = b[c->pos++];
    }
    return ALT_OK;
}

static bool image_id(cursor *c, alt_frames_ota *o)
{
    if (!need(c, 8, "OTA command truncated in its image identification"))
        return false;
    o->manufacturer = get16(c->b + c->pos);
    o->image_type = get16(c->b + c->pos + 2);
    o->file_version = get32(c->b + c->pos + 4);
    c->pos += 8;
    return true;
}

/* An OTA Upgrade cluster command's fields; false when it is not one this parser knows (left as payload). */
static int parse_ota(cursor *c, alt_frames_frame *f)
{
    alt_frames_ota *o = &f->ota;
    uint8_t *b = c->b;
    const char *trunc = "OTA command truncated";
    switch (f->zcl.command) {
    case ALT_OTA_IMAGE_NOTIFY:
        if (!need(c, 2, trunc))
            return ALT_EINVAL;
        o->field_control = b[c->pos];
        o->query_jitter = b[c->pos + 1];
        c->pos += 2;
        if (o->field_control > 3)
            return malformed(c, "OTA Image Notify payload type is reserved");
        {
            static const size_t extra[4] = {0, 2, 4, 8};
            if (!need(c, extra[o->field_control], trunc))
                return ALT_EINVAL;
            if (o->field_control >= 1)
                o->manufacturer = get16(b + c->pos);
            if (o->field_control >= 2)
                o->image_type = get16(b + c->pos + 2);
            if (o->field_control >= 3)
                o->file_version = get32(b + c->pos + 4);
            c->pos += extra[o->field_control];
        }
        break;
    case ALT_OTA_QUERY_NEXT_IMAGE_REQUEST:
        if (!need(c, 1, trunc))
            return ALT_EINVAL;
        o->field_control = b[c->pos++];
        if (!image_id(c, o))
            return ALT_EINVAL;
        if (o->field_control & 1) {
            if (!need(c, 2, trunc))
                return ALT_EINVAL;
            o->hardware_version = get16(b + c->pos);
            c->pos += 2;
        }
        break;
    case ALT_OTA_QUERY_NEXT_IMAGE_RESPONSE:
        if (!need(c, 1, trunc))
            return ALT_EINVAL;
        o->status = b[c->pos++];
        if (o->status == ALT_OTA_SUCCESS) {
            if (!image_id(c, o) || !need(c, 4, trunc))
                return ALT_EINVAL;
            o->image_size = get32(b + c->pos);
            c->pos += 4;
        }
        break;
    case ALT_OTA_IMAGE_BLOCK_REQUEST:
        if (!need(c, 1, trunc))
            return ALT_EINVAL;
        o->field_control = b[c->pos++];
        if (!image_id(c, o) || !need(c, 5, trunc))
            return ALT_EINVAL;
        o->file_offset = get32(b + c->pos);
        o->data_size = b[c->pos + 4];
        c->pos += 5;
        if (o->field_control & 1) {
            if (!need(c, 8, trunc))
                return ALT_EINVAL;
            o->request_node = get64(b + c->pos);
            c->pos += 8;
        }
        if (o->field_control & 2) {
            if (!need(c, 2, trunc))
                return ALT_EINVAL;
            o->min_block_period = get16(b + c->pos);
            c->pos += 2;
        }
        break;
    case ALT_OTA_IMAGE_BLOCK_RESPONSE:
        if (!need(c, 1, trunc))
            return ALT_EINVAL;
        o->status = b[c->pos++];
        if (o->status == ALT_OTA_SUCCESS) {
            if (!image_id(c, o) || !need(c, 5, trunc))
                return ALT_EINVAL;
            o->file_offset = get32(b + c->pos);
            o->data_size = b[c->pos + 4];
            c->pos += 5;
            if (c->end - c->pos != o->data_size)
                return malformed(c, "OTA Image Block Response data size disagrees with the bytes that follow");
            o->data = b + c->pos;
            c->pos += o->data_size;
        } else if (o->status == ALT_OTA_WAIT_FOR_DATA) {
            if (!need(c, 10, trunc))
                return ALT_EINVAL;
            o->current_time = get32(b + c->pos);
            o->request_time = get32(b + c->pos + 4);
            o->min_block_period = get16(b + c->pos + 8);
            c->pos += 10;
        }
        break;
    case ALT_OTA_UPGRADE_END_REQUEST:
        if (!need(c, 1, trunc))
            return ALT_EINVAL;
        o->status = b[c->pos++];
        if (!image_id(c, o))
            return ALT_EINVAL;
        break;
    case ALT_OTA_UPGRADE_END_RESPONSE:
        if (!image_id(c, o) || !need(c, 8, trunc))
            return ALT_EINVAL;
        o->current_time = get32(b + c->pos);
        o->request_time = get32(b + c->pos + 4);
        c->pos += 8;
        break;
    default:
        return ALT_OK;
    }
    f->has_ota = true;
    return ALT_OK;
}

static int parse_zcl(cursor *c, alt_frames_frame *f)
{
    alt_frames_zcl *z = &f->zcl;
    uint8_t *b = c->b;
    if (!need(c, 3, "ZCL header truncated"))
        return ALT_EINVAL;
    uint8_t fc = b[c->pos++];
    z->frame_type = fc & 3;
    z->manufacturer_specific = fc >> 2 & 1;
    z->server_to_client = fc >> 3 & 1;
    z->disable_default_response = fc >> 4 & 1;
    if (z->manufacturer_specific) {
        if (!need(c, 4, "ZCL header truncated"))
            return ALT_EINVAL;
        z->manufacturer = get16(b + c->pos);
        c->pos += 2;
    }
    z->seq = b[c->pos];
    z->command = b[c->pos + 1];
    c->pos += 2;
    f->has_zcl = true;
    if (f->aps.cluster == ALT_FRAMES_CLUSTER_OTA && z->frame_type == 1 && !z->manufacturer_specific)
        return parse_ota(c, f);
    return ALT_OK;
}

/* Where a frame's parse resumes: the stages between which a layer's protection is removed. */
enum { STAGE_MAC, STAGE_NWK, STAGE_APS, STAGE_DONE };
enum { PARSE_PENDING = 1 };   /* a deferred decryption must be settled before the next stage */

typedef struct parse_state {
    cursor c;
    int stage;
} parse_state;

static void set_payload(alt_frames_frame *f, const cursor *c)
{
    f->payload = c->b + c->pos;
    f->payload_len = c->end > c->pos ? c->end - c->pos : 0;
}

/* Runs the stages from s->stage: the frame's status, or PARSE_PENDING with the decryption in s->c.job. */
static int parse_stages(parse_state *s, const alt_frames_keys *keys, alt_frames_frame *f)
{
    cursor *c = &s->c;
    alt_frames_status *st = c->st;
    int rc;
    c->pending = false;
    switch (s->stage) {
    case STAGE_MAC:
        rc = parse_mac(c, keys, f);
        set_payload(f, c);
        s->stage = STAGE_NWK;
        if (rc)
            return rc;
        if (c->pending)
            return PARSE_PENDING;
        /* fall through */
    case STAGE_NWK:
        s->stage = STAGE_DONE;
        if (st->mac_sec == ALT_FRAMES_SEC_NO_KEY || f->mac.frame_type != ALT_FRAMES_MAC_DATA || c->pos + 2 > c->end ||
            (get16(c->b + c->pos) >> 2 & 15) != 2)
            return ALT_OK;   /* not a ZigBee PRO NWK frame inside: the MAC payload is the payload */
        f->has_nwk = true;
        rc = parse_nwk(c, keys, f);
        set_payload(f, c);
        s->stage = STAGE_APS;
        if (rc)
            return rc;
        if (c->pending)
            return PARSE_PENDING;
        /* fall through */
    case STAGE_APS:
        s->stage = STAGE_DONE;
        if (st->nwk_sec == ALT_FRAMES_SEC_NO_KEY || f->nwk.frame_type != 0)
            return ALT_OK;
        f->has_aps = true;
        rc = parse_aps(c, keys, f);
        set_payload(f, c);
        bool zcl = f->aps.frame_type == 0 && (f->aps.delivery_mode == 3 || f->aps.dst_endpoint != 0);
        if (rc || st->aps_sec == ALT_FRAMES_SEC_NO_KEY || !zcl)
            return rc;
        rc = parse_zcl(c, f);
        set_payload(f, c);
        return rc;
    default:
        return ALT_OK;
    }
}

/* Checks length and FCS and copies the frame into clear; ALT_OK when the stages may run. */
static int parse_start(parse_state *s, const uint8_t *psdu, size_t len, bool check_fcs, uint8_t *clear,
                       alt_frames_frame *f, alt_frames_status *st, bool defer)
{
    memset(f, 0, sizeof *f);
    memset(st, 0, sizeof *st);
    s->stage = STAGE_DONE;
    if (len > ALT_FRAMES_MAX_PSDU) {
        st->error = "longer than the 127-byte IEEE 802.15.4 PSDU";
        return ALT_ERANGE;
    }
    size_t body = len;
    if (check_fcs) {
        if (len < 3 + ALT_FRAMES_FCS_LEN) {
            st->error = "IEEE 802.15.4 frame shorter than a header and FCS";
            return ALT_EINVAL;
        }
        body = len - ALT_FRAMES_FCS_LEN;
        st->fcs_ok = fcs(psdu, body) == get16(psdu + body);
        if (!st->fcs_ok)
            return ALT_EAUTH;
    }
    if (body)
        memcpy(clear, psdu, body);
    s->c.b = clear;   /* the deferred job is written before it is read: no need to clear it */
    s->c.pos = 0;
    s->c.end = body;
    s->c.st = st;
    s->c.defer = defer;
    s->c.pending = false;
    s->stage = STAGE_MAC;
    return ALT_OK;
}

int alt_frames_parse(const uint8_t *psdu, size_t len, bool check_fcs, const alt_frames_keys *keys,
                     uint8_t clear[ALT_FRAMES_MAX_PSDU], alt_frames_frame *f, alt_frames_status *st)
{
    if (!f || !st || !clear || (len && !psdu))
        return ALT_EINVAL;
    parse_state s;
    int rc = parse_start(&s, psdu, len, check_fcs, clear, f, st, false);
    return rc ? rc : parse_stages(&s, keys, f);
}

/* ---- many frames -------------------------------------------------------------------------------------- */

#define RX_CHUNK 128

typedef struct rx_work {
    parse_state state[RX_CHUNK];
    alt_frames_keys keys[RX_CHUNK];
    size_t which[RX_CHUNK];
    int64_t aad_off[RX_CHUNK + 1], in_off[RX_CHUNK + 1];
    uint8_t aad[RX_CHUNK * ALT_FRAMES_MAX_PSDU], in[RX_CHUNK * ALT_FRAMES_MAX_PSDU],
        out[RX_CHUNK * ALT_FRAMES_MAX_PSDU], nonces[RX_CHUNK * 13], key[RX_CHUNK * 16], ok[RX_CHUNK];
} rx_work;

/* Settles every pending decryption of frames [0, m) whose MIC is mic bytes as one CCM* batch, then lets each
 * of them parse on. Returns ALT_OK or the batch's own error. */
static int settle(rx_work *w, const alt_frames_rx_batch *b, size_t base, size_t m, unsigned mic, int *rc)
{
    size_t k = 0;
    w->aad_off[0] = w->in_off[0] = 0;
    for (size_t i = 0; i < m; i++) {
        if (rc[i] != PARSE_PENDING || w->state[i].c.job.mic != mic)
            continue;
        const deferred *j = &w->state[i].c.job;
        uint8_t *clear = w->state[i].c.b, received = clear[j->sc_pos];
        clear[j->sc_pos] = j->sc_used;
        memcpy(w->aad + w->aad_off[k], clear + j->aad, j->pay - j->aad);
        clear[j->sc_pos] = received;
        memcpy(w->in + w->in_off[k], clear + j->pay, j->end - j->pay);
        w->aad_off[k + 1] = w->aad_off[k] + (int64_t)(j->pay - j->aad);
        w->in_off[k + 1] = w->in_off[k] + (int64_t)(j->end - j->pay);
        memcpy(w->nonces + 13 * k, j->nonce, 13);
        memcpy(w->key + 16 * k, j->key, 16);
        w->which[k++] = i;
    }
    if (k == 0)
        return ALT_OK;
    alt_ccm_batch batch = {
        .n = k, .keys = w->key, .key_count = k, .nonces = w->nonces, .nonce_len = 13,
        .aad = {w->aad, w->aad_off, 0}, .in = {w->in, w->in_off, 0}, .out = w->out, .mic_len = mic, .ok = w->ok,
    };
    /* The common case, frames of one shape under one key, takes the fixed-shape kernels (and one key
     * schedule) instead of the general ones. */
    bool one_key = true, one_shape = true;
    size_t aad_len = (size_t)w->aad_off[1], in_len = (size_t)w->in_off[1];
    for (size_t t = 1; t < k && (one_key || one_shape); t++) {
        one_key = one_key && w->state[w->which[t]].c.job.key == w->state[w->which[0]].c.job.key;
        one_shape = one_shape && (size_t)(w->aad_off[t + 1] - w->aad_off[t]) == aad_len &&
                    (size_t)(w->in_off[t + 1] - w->in_off[t]) == in_len;
    }
    if (one_key)
        batch.key_count = 1;
    if (one_shape) {
        batch.aad = (alt_ccm_spans){w->aad, NULL, aad_len};
        batch.in = (alt_ccm_spans){w->in, NULL, in_len};
    }
    int err = alt_ccm_decrypt_batch(&batch);
    if (err)
        return err;
    size_t o = 0;
    for (size_t t = 0; t < k; t++) {
        size_t i = w->which[t];
        parse_state *s = &w->state[i];
        const deferred *j = &s->c.job;
        size_t len = j->end - j->pay - mic;
        memcpy(s->c.b + j->pay, w->out + o, len);   /* zeros for a forgery, as alt_ccm_decrypt leaves */
        o += len;
        if (!w->ok[t]) {
            *j->sec = ALT_FRAMES_SEC_BAD_MIC;
            rc[i] = ALT_EAUTH;
        } else {
            rc[i] = parse_stages(s, &w->keys[i], &b->frames[base + i]);
        }
    }
    return ALT_OK;
}

int alt_frames_parse_batch(const alt_frames_rx_batch *b)
{
    if (!b || (b->n && (!b->psdus || !b->lens || !b->clear || !b->frames || !b->status || !b->rc)))
        return ALT_EINVAL;
    if ((b->mac_keys || b->nwk_keys) && b->key_count == 0)
        return ALT_EINVAL;
    for (size_t i = 0; b->key_index && i < b->n; i++)
        if (b->key_index[i] < 0 || (size_t)b->key_index[i] >= b->key_count)
            return ALT_EINVAL;
    if (b->n == 0)
        return ALT_OK;
    rx_work *w = malloc(sizeof *w);
    if (!w)
        return ALT_ENOMEM;
    int err = ALT_OK;
    for (size_t base = 0; base < b->n && !err; base += RX_CHUNK) {
        size_t m = b->n - base < RX_CHUNK ? b->n - base : RX_CHUNK;
        int *rc = b->rc + base;
        for (size_t i = 0; i < m; i++) {
            size_t f = base + i;
            alt_frames_keys *k = &w->keys[i];
            if (b->keys)
                *k = *b->keys;
            else
                memset(k, 0, sizeof *k);
            size_t key = b->key_index ? (size_t)b->key_index[f] : 0;
            if (b->mac_keys)
                k->mac_key = b->mac_keys + 16 * key;
            if (b->nwk_keys)
                k->nwk_key = b->nwk_keys + 16 * key;
            uint8_t *clear = b->clear + f * ALT_FRAMES_MAX_PSDU;
            rc[i] = parse_start(&w->state[i], b->psdus + f * b->stride, b->lens[f], b->check_fcs, clear,
                                &b->frames[f], &b->status[f], true);
            if (rc[i] == ALT_OK)
                rc[i] = parse_stages(&w->state[i], k, &b->frames[f]);
        }
        /* MAC, then NWK: at most two rounds of decryption per frame, each grouped by MIC length */
        for (int round = 0; round < 2 && !err; round++) {
            static const unsigned mics[4] = {0, 4, 8, 16};
            for (int q = 0; q < 4 && !err; q++)
                err = settle(w, b, base, m, mics[q], rc);
        }
        for (size_t i = 0; i < m && !err; i++)
            if (rc[i] == PARSE_PENDING)   /* two deferrable layers, two rounds: cannot happen */
                err = ALT_EINVAL;
    }
    free(w);
    return err;
}
