# cython: language_level=3, boundscheck=False, wraparound=False
"""Frames (csrc/frames.h): build and parse IEEE 802.15.4 / ZigBee NWK / APS / ZCL OTA frames.

Thin: layer descriptions travel as dicts whose keys are the C struct's field names (Cython converts them
both ways); althan_ota.frames turns them into dataclasses. Runs on the "aes" and "crc" families' tiers (one
shared C core).
"""

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset

import numpy as np

from ._buffers cimport Held, release, take
from ._status cimport check_rc
from .alt_status cimport ALT_EINVAL, ALT_ERANGE
from .frames cimport (ALT_FRAMES_MAX_PSDU, alt_frames_build, alt_frames_build_ibr_batch, alt_frames_frame,
                      alt_frames_ibr_batch, alt_frames_keys, alt_frames_ota_data, alt_frames_parse,
                      alt_frames_parse_batch, alt_frames_rx_batch, alt_frames_status)

from ..errors import FrameError, ParameterError


cdef const uint8_t *key_ptr(Held *held, object key, str what) except? NULL:
    if key is None:
        return NULL
    cdef Py_ssize_t n
    cdef const uint8_t *k = take(held, key, &n, what)
    if n != 16:
        raise ParameterError(f"the {what} is an AES-128 key, 16 bytes; got {n}")
    return k


cdef int fill(alt_frames_frame *f, mac, nwk, aps, zcl, ota) except -1:
    """Layer dicts (None: layer absent) into the C description. Cython's dict-to-struct conversion raises
    for a missing field; overflowing integers raise OverflowError, reported as a FrameError by the caller."""
    memset(f, 0, sizeof(alt_frames_frame))
    f.mac = mac
    if nwk is not None:
        f.has_nwk = True
        f.nwk = nwk
    if aps is not None:
        f.has_aps = True
        f.aps = aps
    if zcl is not None:
        f.has_zcl = True
        f.zcl = zcl
    if ota is not None:
        f.has_ota = True
        f.ota = ota
    return 0


cdef int check_build(int rc, str what) except -1:
    """Build statuses: a frame that breaks its layers' rules is a FrameError."""
    if rc == ALT_ERANGE:
        return check_rc(rc, what, "the frame does not fit the 127-byte IEEE 802.15.4 PSDU", FrameError)
    if rc == ALT_EINVAL:
        return check_rc(rc, what, "a field is out of range for its layer (address mode, security level, extended "
                                  "nonce off, source route, or a missing key for a protected layer)", FrameError)
    return check_rc(rc, what)


def build(mac, nwk, aps, zcl, ota, data, payload, mac_key, nwk_key, aps_key):
    """The PSDU (with FCS) of the described frame. data: Image Block Response bytes; payload: the bytes
    after the innermost layer otherwise."""
    cdef alt_frames_frame f
    try:
        fill(&f, mac, nwk, aps, zcl, ota)
    except (OverflowError, TypeError, ValueError) as exc:
        raise FrameError(f"frame description: {exc}") from None
    cdef Held held
    held.count = 0
    cdef Py_ssize_t data_len, payload_len
    cdef const uint8_t *d
    cdef uint8_t out[128]
    cdef size_t n = 0
    try:
        d = take(&held, data, &data_len, "data")
        f.payload = take(&held, payload, &payload_len, "payload")
        f.payload_len = payload_len
        if ota is not None:
            if data_len > 255:
                raise FrameError(f"an Image Block Response carries at most 255 data bytes, got {data_len}")
            f.ota.data_size = <uint8_t>data_len if f.ota.status == 0 and f.zcl.command == 5 else f.ota.data_size
            (<alt_frames_ota_data *>&f.ota).data = d
        rc = alt_frames_build(&f, key_ptr(&held, mac_key, "MAC key"), key_ptr(&held, nwk_key, "NWK key"),
                              key_ptr(&held, aps_key, "APS key"), out, sizeof(out), &n)
        check_build(rc, "frame build")
    finally:
        release(&held)
    return out[:n]


SEC_NAMES = ("none", "ok", "no-key", "bad-mic")


cdef int fill_keys(Held *held, alt_frames_keys *keys, mac_key, nwk_key, aps_key, mac_nonce_src,
                   int zigbee_level) except -1:
    memset(keys, 0, sizeof(alt_frames_keys))
    keys.mac_key = key_ptr(held, mac_key, "MAC key")
    keys.nwk_key = key_ptr(held, nwk_key, "NWK key")
    keys.aps_key = key_ptr(held, aps_key, "APS key")
    if mac_nonce_src is not None:
        keys.has_mac_nonce_src = True
        keys.mac_nonce_src = mac_nonce_src
    if not 0 <= zigbee_level <= 7:
        raise ParameterError(f"a ZigBee security level is 0..7, got {zigbee_level}")
    keys.zigbee_level = zigbee_level
    return 0


cdef tuple result(int rc, alt_frames_status *st, alt_frames_frame *f, const uint8_t *clear,
                  bint check_fcs):
    """(rc, status dict, layer dicts, Image Block Response data, payload bytes) of one parsed frame."""
    status = {
        "fcs_ok": st.fcs_ok if check_fcs else None,
        "mac_security": SEC_NAMES[st.mac_sec], "nwk_security": SEC_NAMES[st.nwk_sec],
        "aps_security": SEC_NAMES[st.aps_sec],
        "error": st.error.decode() if st.error != NULL else None, "error_offset": st.error_offset,
    }
    data = b""
    cdef size_t start
    if f.has_ota and f.zcl.command == 5 and f.ota.status == 0:
        start = <size_t>(f.payload - clear) - f.ota.data_size
        data = clear[start:start + f.ota.data_size]
    layers = (f.mac, f.nwk if f.has_nwk else None, f.aps if f.has_aps else None,
              f.zcl if f.has_zcl else None, f.ota if f.has_ota else None)
    payload = f.payload[:f.payload_len] if f.payload_len else b""
    return rc, status, layers, data, payload


def parse(psdu, bint check_fcs, mac_key, nwk_key, aps_key, mac_nonce_src, int zigbee_level):
    """(rc, status dict, layer dicts, data, payload bytes). Never raises for the frame's own content."""
    cdef Held held
    held.count = 0
    cdef alt_frames_keys keys
    cdef alt_frames_frame f
    cdef alt_frames_status st
    cdef uint8_t clear[128]
    cdef Py_ssize_t n
    cdef const uint8_t *p
    try:
        fill_keys(&held, &keys, mac_key, nwk_key, aps_key, mac_nonce_src, zigbee_level)
        p = take(&held, psdu, &n, "psdu")
        rc = alt_frames_parse(p, n, check_fcs, &keys, clear, &f, &st)
        return result(rc, &st, &f, clear, check_fcs)
    finally:
        release(&held)


def parse_many(list psdus, bint check_fcs, mac_key, nwk_key, aps_key, mac_nonce_src, int zigbee_level):
    """parse() of every bytes object in psdus, the MAC and NWK decryption run as CCM* batches in C."""
    cdef Py_ssize_t n = len(psdus)
    cdef alt_frames_keys keys
    cdef Held held
    held.count = 0
    try:
        fill_keys(&held, &keys, mac_key, nwk_key, aps_key, mac_nonce_src, zigbee_level)
        return _parse_many(psdus, n, check_fcs, &keys)
    finally:
        release(&held)


cdef list _parse_many(list psdus, Py_ssize_t n, bint check_fcs, const alt_frames_keys *keys):
    cdef Py_ssize_t i
    packed = np.zeros((n, ALT_FRAMES_MAX_PSDU), np.uint8)
    lens = np.zeros(n, np.uint16)
    cdef uint8_t[:, ::1] pv = packed
    cdef uint16_t[::1] lv = lens
    cdef bytes raw
    for i in range(n):
        raw = psdus[i]
        lv[i] = min(len(raw), ALT_FRAMES_MAX_PSDU + 1)
        packed[i, :min(len(raw), ALT_FRAMES_MAX_PSDU)] = np.frombuffer(raw[:ALT_FRAMES_MAX_PSDU], np.uint8)
    clear = np.zeros((max(n, 1), ALT_FRAMES_MAX_PSDU), np.uint8)
    frames = np.zeros(max(n, 1) * sizeof(alt_frames_frame), np.uint8)
    statuses = np.zeros(max(n, 1) * sizeof(alt_frames_status), np.uint8)
    rcs = np.zeros(max(n, 1), np.intc)
    cdef uint8_t[:, ::1] cv = clear
    cdef uint8_t[::1] fv = frames
    cdef uint8_t[::1] sv = statuses
    cdef int[::1] rv = rcs
    cdef alt_frames_rx_batch b
    memset(&b, 0, sizeof(b))
    b.n = n
    b.psdus = &pv[0, 0] if n else NULL
    b.stride = ALT_FRAMES_MAX_PSDU
    b.lens = &lv[0] if n else NULL
    b.check_fcs = check_fcs
    b.keys = keys
    b.clear = &cv[0, 0]
    b.frames = <alt_frames_frame *>&fv[0]
    b.status = <alt_frames_status *>&sv[0]
    b.rc = &rv[0]
    cdef int rc
    with nogil:
        rc = alt_frames_parse_batch(&b)
    check_rc(rc, "frame parse batch")
    out = []
    for i in range(n):
        out.append(result(rv[i], &b.status[i], &b.frames[i], &cv[i, 0], check_fcs))
    return out


def build_image_block_responses(mac, nwk, aps, zcl, ota, const unsigned char[:, ::1] data,
                                const uint32_t[::1] offsets, const uint32_t[::1] counters,
                                const uint8_t[::1] seqs, mac_keys, nwk_keys, key_index):
    """n Image Block Responses from one template (layer dicts), frame i carrying data[i] at offsets[i], with
    NWK (and MAC, when secured) frame counter counters[i] and MAC/NWK/APS/ZCL sequence numbers seqs[i].
    Keys: (k, 16) uint8 tables with key_index (n,) int64, or one key (16,). Returns ((n, 127) uint8, lens)."""
    cdef Py_ssize_t n = data.shape[0]
    if offsets.shape[0] != n or counters.shape[0] != n or seqs.shape[0] != n:
        raise ParameterError(f"data has {n} rows; offsets, counters and seqs need {n} entries each")
    if data.shape[1] > 255:
        raise ParameterError(f"an Image Block Response carries at most 255 data bytes, got {data.shape[1]}")
    cdef alt_frames_frame tmpl
    try:
        fill(&tmpl, mac, nwk, aps, zcl, ota)
    except (OverflowError, TypeError, ValueError) as exc:
        raise FrameError(f"frame description: {exc}") from None
    cdef const uint8_t[:, ::1] mk = _key_table(mac_keys, "MAC keys")
    cdef const uint8_t[:, ::1] nk = _key_table(nwk_keys, "NWK keys")
    if mac_keys is not None and nwk_keys is not None and mk.shape[0] != nk.shape[0]:
        raise ParameterError("MAC and NWK key tables must have the same number of keys")
    cdef const int64_t[::1] idx
    cdef alt_frames_ibr_batch b
    memset(&b, 0, sizeof(b))
    b.key_count = max(mk.shape[0], nk.shape[0], 1)
    if key_index is not None:
        idx = np.ascontiguousarray(key_index, dtype=np.int64)
        if idx.shape[0] != n:
            raise ParameterError(f"key_index needs {n} entries, got {idx.shape[0]}")
        if n and (np.min(idx) < 0 or np.max(idx) >= b.key_count):
            raise ParameterError(f"key_index values must be in 0..{b.key_count - 1}")
        b.key_index = &idx[0] if n else NULL
    out = np.empty((n, ALT_FRAMES_MAX_PSDU), np.uint8)
    cdef uint8_t[:, ::1] o = out
    b.tmpl = &tmpl
    b.n = n
    b.data = &data[0, 0] if n and data.shape[1] else NULL
    b.data_len = data.shape[1]
    b.data_stride = data.shape[1]
    b.offsets = &offsets[0] if n else NULL
    b.counters = &counters[0] if n else NULL
    b.seqs = &seqs[0] if n else NULL
    b.mac_keys = &mk[0, 0] if mk.shape[0] else NULL
    b.nwk_keys = &nk[0, 0] if nk.shape[0] else NULL
    b.out = &o[0, 0] if n else NULL
    b.stride = ALT_FRAMES_MAX_PSDU
    cdef size_t length = 0
    cdef int rc
    with nogil:
        rc = alt_frames_build_ibr_batch(&b, &length)
    check_build(rc, "Image Block Response batch")
    return out, np.full(n, length, np.uint16)


cdef _key_table(keys, str what):
    if keys is None:
        return np.zeros((0, 16), np.uint8)
    k = np.asarray(keys)
    if k.dtype != np.uint8:
        k = np.frombuffer(bytes(keys), np.uint8) if isinstance(keys, (bytes, bytearray)) else k
    if k.dtype != np.uint8:
        raise ParameterError(f"{what} must be uint8, got {k.dtype}")
    if k.ndim == 1:
        k = k.reshape(1, -1)
    if k.ndim != 2 or k.shape[1] != 16:
        raise ParameterError(f"{what} are 16-byte AES-128 keys, (k, 16) or (16,); got shape {k.shape}")
    return np.ascontiguousarray(k)
