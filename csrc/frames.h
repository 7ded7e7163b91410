/* Radio frames of an OTA download, built and parsed byte for byte as devices send them:
 *
 *   IEEE 802.15.4 MAC (2003/2006 frame, optional 2006 auxiliary security header, FCS = CRC-16/KERMIT)
 *     ZigBee NWK (PRO: frame control, short and optional IEEE addresses, radius, sequence;
 *                 NWK security: auxiliary header, CCM* with the ZigBee nonce, MIC)
 *       ZigBee APS (data, ack and command frames; optional APS security)
 *         ZCL (header) + OTA Upgrade cluster (0x0019) commands (ZCL spec 07-5123, chapter 11)
 *
 * All multi-byte fields are little-endian on the air. CCM* runs on the "aes" family (ccm.h), the FCS on the
 * CRC family (crc.h).
 *
 * ZigBee security (spec 05-3474 4.3.1.2 / 4.4.1.2): the security level is the network-wide nwkSecurityLevel
 * (5: ENC-MIC-32); the security control byte goes on the air with its level bits zeroed, and the receiver
 * puts the level back before it builds the nonce and the AAD. The builder takes the level from the layer
 * description (sec_level) and writes zeros; the parser uses alt_frames_keys.zigbee_level.
 *
 * A frame description (alt_frames_frame) holds every layer; has_* says which are present. Building writes
 * the layers in order and protects them innermost first, in place; parsing checks the FCS, removes each
 * layer's protection into a caller-owned buffer and describes every layer it got to. The builder sends
 * ZigBee security with the extended nonce (the sender's EUI-64 in the auxiliary header, as ZigBee PRO
 * devices do) and MAC security from an extended source address; the parser also takes frames without them.
 */
#ifndef ALT_FRAMES_H
#define ALT_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alt_status.h"

#define ALT_FRAMES_MAX_PSDU 127
#define ALT_FRAMES_FCS_LEN 2

enum { ALT_FRAMES_ADDR_NONE = 0, ALT_FRAMES_ADDR_SHORT = 2, ALT_FRAMES_ADDR_EXT = 3 };
enum { ALT_FRAMES_MAC_BEACON = 0, ALT_FRAMES_MAC_DATA = 1, ALT_FRAMES_MAC_ACK = 2, ALT_FRAMES_MAC_COMMAND = 3 };

/* ZigBee security key identifiers (security control bits 3-4). */
enum { ALT_FRAMES_KEY_DATA = 0, ALT_FRAMES_KEY_NETWORK = 1, ALT_FRAMES_KEY_TRANSPORT = 2,
       ALT_FRAMES_KEY_LOAD = 3 };

#define ALT_FRAMES_ZIGBEE_LEVEL 5   /* ENC-MIC-32, the only level ZigBee PRO networks use */
#define ALT_FRAMES_CLUSTER_OTA 0x0019
#define ALT_FRAMES_PROFILE_SE 0x0109

/* OTA Upgrade cluster command identifiers and statuses (ZCL 11.13, 2.5.3). */
enum {
    ALT_OTA_IMAGE_NOTIFY = 0x00,
    ALT_OTA_QUERY_NEXT_IMAGE_REQUEST = 0x01,
    ALT_OTA_QUERY_NEXT_IMAGE_RESPONSE = 0x02,
    ALT_OTA_IMAGE_BLOCK_REQUEST = 0x03,
    ALT_OTA_IMAGE_PAGE_REQUEST = 0x04,
    ALT_OTA_IMAGE_BLOCK_RESPONSE = 0x05,
    ALT_OTA_UPGRADE_END_REQUEST = 0x06,
    ALT_OTA_UPGRADE_END_RESPONSE = 0x07,
};
enum {
    ALT_OTA_SUCCESS = 0x00,
    ALT_OTA_ABORT = 0x95,
    ALT_OTA_INVALID_IMAGE = 0x96,
    ALT_OTA_WAIT_FOR_DATA = 0x97,
    ALT_OTA_NO_IMAGE_AVAILABLE = 0x98,
    ALT_OTA_REQUIRE_MORE_IMAGE = 0x99,
};

/* MIC length of an IEEE 802.15.4 / ZigBee security level (0..7): 0, 4, 8, 16 bytes for level & 3. */
static inline unsigned alt_frames_mic_len(unsigned level) { return level & 3 ? 2u << (level & 3) : 0; }

typedef struct alt_frames_mac {
    uint8_t frame_type;        /* ALT_FRAMES_MAC_* */
    uint8_t frame_version;     /* 0: 2003, 1: 2006 (needed for security) */
    bool security, frame_pending, ack_request, pan_id_compression;
    uint8_t seq;
    uint8_t dst_mode, src_mode;   /* ALT_FRAMES_ADDR_* */
    uint16_t dst_pan, src_pan;    /* src_pan is dst_pan under PAN ID compression */
    uint64_t dst_addr, src_addr;  /* a short address in the low 16 bits */
    /* 802.15.4-2006 auxiliary security header (security set) */
    uint8_t sec_level;         /* 1..7 */
    uint8_t key_id_mode;       /* 0..3: none, index, 4-byte source + index, 8-byte source + index */
    uint32_t frame_counter;
    uint64_t key_source;
    uint8_t key_index;
    uint8_t command_id;        /* MAC command frames: the command identifier (sent in the clear) */
} alt_frames_mac;

typedef struct alt_frames_nwk {
    uint8_t frame_type;        /* 0 data, 1 command, 3 inter-PAN */
    uint8_t protocol_version;  /* 2: ZigBee PRO */
    uint8_t discover_route;
    bool multicast, security, source_route, end_device_initiator, has_dst_ieee, has_src_ieee;
    uint16_t dst, src;
    uint8_t radius, seq;
    uint64_t dst_ieee, src_ieee;
    uint8_t multicast_control;
    uint8_t relay_count, relay_index; /* source route (parsed; the builder refuses source routes) */
    /* auxiliary security header (security set) */
    uint8_t sec_level;         /* build: the level used for the nonce and AAD (5); parse: as used */
    uint8_t key_id;            /* ALT_FRAMES_KEY_* */
    bool ext_nonce;
    uint32_t frame_counter;
    uint64_t sec_src;          /* the extended source of the nonce (ext_nonce) */
    uint8_t key_seq;           /* network key sequence number (key_id network) */
} alt_frames_nwk;

typedef struct alt_frames_aps {
    uint8_t frame_type;        /* 0 data, 1 command, 2 ack */
    uint8_t delivery_mode;     /* 0 unicast, 2 broadcast, 3 group */
    bool ack_format, security, ack_request, extended_header;
    uint8_t dst_endpoint, src_endpoint, counter;
    uint16_t group, cluster, profile;
    uint8_t command_id;        /* APS command frames: the command identifier (first payload byte) */
    /* auxiliary security header (security set) */
    uint8_t sec_level, key_id;
    bool ext_nonce;
    uint32_t frame_counter;
    uint64_t sec_src;
    uint8_t key_seq;
} alt_frames_aps;

typedef struct alt_frames_zcl {
    uint8_t frame_type;        /* 0 global (profile-wide), 1 cluster-specific */
    bool manufacturer_specific, server_to_client, disable_default_response;
    uint16_t manufacturer;
    uint8_t seq, command;
} alt_frames_zcl;

/* One OTA Upgrade cluster command; which fields count depends on command and status (ZCL 11.13). */
typedef struct alt_frames_ota {
    uint8_t status;            /* responses and Upgrade End Request */
    uint8_t field_control;     /* Query Next Image / Image Block Request, Image Notify payload type */
    uint16_t manufacturer, image_type;
    uint32_t file_version;
    uint16_t hardware_version; /* Query Next Image Request, field control bit 0 */
    uint32_t image_size;       /* Query Next Image Response */
    uint32_t file_offset;
    uint8_t data_size;         /* Image Block Response: data bytes; Request: maximum data size */
    uint64_t request_node;     /* Image Block Request, field control bit 0 */
    uint16_t min_block_period; /* Image Block Request bit 1; Image Block Response WAIT_FOR_DATA */
    uint32_t current_time, request_time;   /* WAIT_FOR_DATA; Upgrade End Response (request_time: upgrade time) */
    uint8_t query_jitter;      /* Image Notify */
    const uint8_t *data;       /* Image Block Response SUCCESS: data_size bytes */
} alt_frames_ota;

typedef struct alt_frames_frame {
    alt_frames_mac mac;
    bool has_nwk, has_aps, has_zcl, has_ota;
    alt_frames_nwk nwk;
    alt_frames_aps aps;
    alt_frames_zcl zcl;
    alt_frames_ota ota;
    /* The bytes after the innermost layer present: the MAC, NWK or APS payload, the ZCL command payload
     * when it is not an OTA command; empty after an OTA command. Parsing points it into `clear`. */
    const uint8_t *payload;
    size_t payload_len;
} alt_frames_frame;

/* Keys a receiver holds; NULL keys leave that layer protected (reported, not an error). */
typedef struct alt_frames_keys {
    const uint8_t *mac_key;
    const uint8_t *nwk_key;
    const uint8_t *aps_key;
    /* The MAC nonce needs the sender's extended address; frames with a short source use this one. */
    uint64_t mac_nonce_src;
    bool has_mac_nonce_src;
    uint8_t zigbee_level;      /* nwkSecurityLevel for NWK and APS frames sent with level bits 0; 0 means 5 */
} alt_frames_keys;

/* What parsing established about each layer. */
enum { ALT_FRAMES_SEC_NONE = 0, ALT_FRAMES_SEC_OK = 1, ALT_FRAMES_SEC_NO_KEY = 2, ALT_FRAMES_SEC_BAD_MIC = 3 };
typedef struct alt_frames_status {
    bool fcs_ok;
    uint8_t mac_sec, nwk_sec, aps_sec;  /* ALT_FRAMES_SEC_* */
    const char *error;         /* what was malformed (static string), or NULL */
    size_t error_offset;       /* where in the clear bytes */
} alt_frames_status;

/* Builds the PSDU (MPDU including the FCS) of f into out (capacity cap >= the frame, at most
 * ALT_FRAMES_MAX_PSDU bytes needed); *out_len gets its length. mac_key / nwk_key / aps_key protect the layers
 * whose security flag is set (NULL for a protected layer: ALT_EINVAL). ALT_ERANGE when the frame exceeds
 * 127 bytes or cap; ALT_EINVAL for a field out of range (bad address mode, level, ...). */
int alt_frames_build(const alt_frames_frame *f, const uint8_t *mac_key, const uint8_t *nwk_key,
                     const uint8_t *aps_key, uint8_t *out, size_t cap, size_t *out_len);

/* Parses a PSDU of len bytes (with FCS). clear (ALT_FRAMES_MAX_PSDU bytes, caller-owned) receives the frame
 * with every layer it could unprotect in the clear; f's payload and ota.data point into it. Returns ALT_OK
 * when the FCS is right and every layer parsed and verified, ALT_EAUTH when a MIC failed or the FCS is
 * wrong (st says which; parsing stops at that layer), ALT_EINVAL for a malformed frame (st->error names the
 * field), ALT_ERANGE for a PSDU longer than 127 bytes. A layer left protected for lack of a key is ALT_OK
 * with its status ALT_FRAMES_SEC_NO_KEY. check_fcs false skips the FCS (frames captured without it). */
int alt_frames_parse(const uint8_t *psdu, size_t len, bool check_fcs, const alt_frames_keys *keys,
                     uint8_t clear[ALT_FRAMES_MAX_PSDU], alt_frames_frame *f, alt_frames_status *st);

/* n frames built in one call, as alt_frames_build would build each: frame i into out + i * stride
 * (stride bytes available), its length in lens[i]. Frame i's MAC and NWK keys are mac_keys and nwk_keys
 * + 16 * key_index[i] (key_index NULL: the first key for all), key_count 16-byte keys in each table. The
 * CCM* of each layer runs as one batch with several frames interleaved, which is what makes many frames
 * cheap (a single frame waits on its serial CBC-MAC). APS security is not batched: ALT_EINVAL. On a bad
 * frame its status is returned and *failed is its index; frames before it may already be built. */
int alt_frames_build_batch(const alt_frames_frame *frames, size_t n, const uint8_t *mac_keys,
                           const uint8_t *nwk_keys, size_t key_count, const int64_t *key_index, uint8_t *out,
                           size_t stride, uint16_t *lens, size_t *failed);

/* The emulator's hot path: n Image Block Responses (status SUCCESS) from one template frame, which gives every
 * field except, for frame i: the data (data + i * data_stride, data_len bytes), the file offset offsets[i],
 * the MAC and NWK frame counters counters[i], and the MAC, NWK, APS and ZCL sequence numbers seqs[i]. The
 * template is laid out once and patched per frame, and each protected layer's CCM* runs as fixed-shape
 * batches. Frame i goes to out + i * stride; every frame has the same length, stored in *len. Keys as in
 * alt_frames_build_batch. ALT_EINVAL for a template that is not such a response or uses APS security. */
typedef struct alt_frames_ibr_batch {
    const alt_frames_frame *tmpl;
    size_t n;
    const uint8_t *data;
    size_t data_len, data_stride;
    const uint32_t *offsets, *counters;
    const uint8_t *seqs;
    const uint8_t *mac_keys, *nwk_keys;
    size_t key_count;
    const int64_t *key_index;
    uint8_t *out;
    size_t stride;
} alt_frames_ibr_batch;

int alt_frames_build_ibr_batch(const alt_frames_ibr_batch *b, size_t *len);

/* n PSDUs parsed as alt_frames_parse parses each one, with the MAC and NWK decryption of all of them run as
 * CCM* batches (several frames interleaved), as a receiver of many frames would. Frame i is psdus + i *
 * stride, lens[i] bytes; its clear bytes go to clear + i * ALT_FRAMES_MAX_PSDU, its description to
 * frames[i], its status to status[i] and its alt_frames_parse return code to rc[i]. Every frame uses *keys
 * (NULL: no keys), except that with key tables frame i's MAC / NWK key is mac_keys / nwk_keys + 16 *
 * key_index[i] (key_index NULL: the first key). Per-frame failures are in rc and status; the call itself
 * fails only for bad arguments (ALT_EINVAL) or memory (ALT_ENOMEM). */
typedef struct alt_frames_rx_batch {
    size_t n;
    const uint8_t *psdus;
    size_t stride;
    const uint16_t *lens;
    bool check_fcs;
    const alt_frames_keys *keys;
    const uint8_t *mac_keys, *nwk_keys;
    size_t key_count;
    const int64_t *key_index;
    uint8_t *clear;
    alt_frames_frame *frames;
    alt_frames_status *status;
    int *rc;
} alt_frames_rx_batch;

int alt_frames_parse_batch(const alt_frames_rx_batch *b);

/* Replay check of a receiver: accepts a counter strictly above the last one accepted from that sender. */
static inline bool alt_frames_counter_accept(uint32_t *last, bool *seen, uint32_t counter)
{
    if (*seen && counter <= *last)
        return false;
    *last = counter;
    *seen = true;
    return true;
}

#endif
