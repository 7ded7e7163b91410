# Declarations of csrc/frames.h.

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "frames.h" nogil:
    enum:
        ALT_FRAMES_MAX_PSDU
    ctypedef struct alt_frames_mac:
        uint8_t frame_type, frame_version
        bint security, frame_pending, ack_request, pan_id_compression
        uint8_t seq, dst_mode, src_mode
        uint16_t dst_pan, src_pan
        uint64_t dst_addr, src_addr
        uint8_t sec_level, key_id_mode
        uint32_t frame_counter
        uint64_t key_source
        uint8_t key_index, command_id
    ctypedef struct alt_frames_nwk:
        uint8_t frame_type, protocol_version, discover_route
        bint multicast, security, source_route, end_device_initiator, has_dst_ieee, has_src_ieee
        uint16_t dst, src
        uint8_t radius, seq
        uint64_t dst_ieee, src_ieee
        uint8_t multicast_control, relay_count, relay_index
        uint8_t sec_level, key_id
        bint ext_nonce
        uint32_t frame_counter
        uint64_t sec_src
        uint8_t key_seq
    ctypedef struct alt_frames_aps:
        uint8_t frame_type, delivery_mode
        bint ack_format, security, ack_request, extended_header
        uint8_t dst_endpoint, src_endpoint, counter
        uint16_t group, cluster, profile
        uint8_t command_id, sec_level, key_id
        bint ext_nonce
        uint32_t frame_counter
        uint64_t sec_src
        uint8_t key_seq
    ctypedef struct alt_frames_zcl:
        uint8_t frame_type
        bint manufacturer_specific, server_to_client, disable_default_response
        uint16_t manufacturer
        uint8_t seq, command
    ctypedef struct alt_frames_ota:
        uint8_t status, field_control
        uint16_t manufacturer, image_type
        uint32_t file_version
        uint16_t hardware_version
        uint32_t image_size, file_offset
        uint8_t data_size
        uint64_t request_node
        uint16_t min_block_period
        uint32_t current_time, request_time
        uint8_t query_jitter
    # The data pointer, declared apart so that the struct above converts to and from a dict.
    ctypedef struct alt_frames_ota_data "alt_frames_ota":
        const uint8_t *data
    ctypedef struct alt_frames_frame:
        alt_frames_mac mac
        bint has_nwk, has_aps, has_zcl, has_ota
        alt_frames_nwk nwk
        alt_frames_aps aps
        alt_frames_zcl zcl
        alt_frames_ota ota
        const uint8_t *payload
        size_t payload_len
    ctypedef struct alt_frames_keys:
        const uint8_t *mac_key
        const uint8_t *nwk_key
        const uint8_t *aps_key
        uint64_t mac_nonce_src
        bint has_mac_nonce_src
        uint8_t zigbee_level
    ctypedef struct alt_frames_status:
        bint fcs_ok
        uint8_t mac_sec, nwk_sec, aps_sec
        const char *error
        size_t error_offset
    int alt_frames_build(const alt_frames_frame *f, const uint8_t *mac_key, const uint8_t *nwk_key,
                         const uint8_t *aps_key, uint8_t *out, size_t cap, size_t *out_len)
    int alt_frames_parse(const uint8_t *psdu, size_t len, bint check_fcs, const alt_frames_keys *keys,
                         uint8_t *clear, alt_frames_frame *f, alt_frames_status *st)
    ctypedef struct alt_frames_ibr_batch:
        const alt_frames_frame *tmpl
        size_t n
        const uint8_t *data
        size_t data_len, data_stride
        const uint32_t *offsets
        const uint32_t *counters
        const uint8_t *seqs
        const uint8_t *mac_keys
        const uint8_t *nwk_keys
        size_t key_count
        const int64_t *key_index
        uint8_t *out
        size_t stride
    int alt_frames_build_ibr_batch(const alt_frames_ibr_batch *b, size_t *length)
    ctypedef struct alt_frames_rx_batch:
        size_t n
        const uint8_t *psdus
        size_t stride
        const uint16_t *lens
        bint check_fcs
        const alt_frames_keys *keys
        const uint8_t *mac_keys
        const uint8_t *nwk_keys
        size_t key_count
        const int64_t *key_index
        uint8_t *clear
        alt_frames_frame *frames
        alt_frames_status *status
        int *rc
    int alt_frames_parse_batch(const alt_frames_rx_batch *b)
