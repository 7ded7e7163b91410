# cython: language_level=3, boundscheck=False, wraparound=False
"""The "aes" kernel family: AES-128 (forward cipher), ZigBee AES-MMO and CCM*, on one set of CPU tiers.

Thin wrappers: arguments are checked here with the GIL held, the C core runs without it. The public API is
althan_ota.checksum (aes_mmo) and althan_ota.ccm.
"""

from libc.stdint cimport int64_t, uint8_t
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize

from ._buffers cimport RELEASE_GIL_FROM, Held, digest_of, release, take
from ._status cimport check_rc
from .aes cimport ALT_AES_MMO_MAX_LEN, alt_aes128_encrypt_ecb, alt_aes128_expand_key, alt_aes128_key, alt_aes_mmo
from .alt_status cimport ALT_EINVAL, ALT_ERANGE
from .ccm cimport (alt_ccm_batch, alt_ccm_check_params, alt_ccm_decrypt, alt_ccm_decrypt_batch, alt_ccm_encrypt,
                   alt_ccm_encrypt_batch)

from ..errors import InvalidTag, ParameterError

cdef const uint8_t EMPTY[1]


cdef inline const uint8_t *ptr(const unsigned char[::1] buf) noexcept:
    """The array's data (never NULL for an array, even an empty one); NULL for None."""
    if buf is None:
        return NULL
    return &buf[0] if buf.shape[0] else EMPTY


cdef int check_key(Py_ssize_t key_len) except -1:
    if key_len != 16:
        raise ParameterError(f"an AES-128 key is 16 bytes, got {key_len}")
    return 0


def ecb_encrypt(key, data):
    """AES-128-ECB encryption of whole blocks (for tests and benchmarks; never a mode to protect data)."""
    cdef Held held
    held.count = 0
    cdef Py_ssize_t key_len, n
    cdef const uint8_t *k
    cdef const uint8_t *d
    cdef alt_aes128_key ks
    cdef int rc
    try:
        k = take(&held, key, &key_len, "key")
        d = take(&held, data, &n, "data")
        check_key(key_len)
        if n % 16:
            raise ParameterError(f"ECB needs whole 16-byte blocks, got {n} bytes")
        out = PyBytes_FromStringAndSize(NULL, n)
        o = <uint8_t *>PyBytes_AS_STRING(out)
        check_rc(alt_aes128_expand_key(k, &ks), "AES-128 key expansion")
        if n >= RELEASE_GIL_FROM:
            with nogil:
                rc = alt_aes128_encrypt_ecb(&ks, d, n, o)
        else:
            rc = alt_aes128_encrypt_ecb(&ks, d, n, o)
        check_rc(rc, "AES-128-ECB")
        return out
    finally:
        release(&held)


def aes_mmo(data):
    cdef Held held
    held.count = 0
    cdef Py_ssize_t n
    cdef uint8_t digest[16]
    try:
        d = take(&held, data, &n, "data")
        if <size_t>n >= ALT_AES_MMO_MAX_LEN:
            raise ParameterError(f"AES-MMO takes fewer than {ALT_AES_MMO_MAX_LEN} bytes (32-bit bit length), "
                                 f"got {n}")
        check_rc(digest_of(alt_aes_mmo, d, n, digest), "AES-MMO")
        return digest[:16]
    finally:
        release(&held)


cdef int check_params(Py_ssize_t nonce_len, Py_ssize_t mic_len, Py_ssize_t msg_len) except -1:
    """CCM*'s parameter rules (alt_ccm_check_params), each broken one named."""
    rc = alt_ccm_check_params(nonce_len, mic_len, msg_len)
    if rc == ALT_EINVAL and not 7 <= nonce_len <= 13:
        check_rc(rc, "CCM*", f"a CCM nonce is 7 to 13 bytes, got {nonce_len}")
    if rc == ALT_EINVAL:
        check_rc(rc, "CCM*", f"a CCM* MIC is 0, 4, 6, 8, 10, 12, 14 or 16 bytes, got {mic_len}")
    if rc == ALT_ERANGE:
        check_rc(rc, "CCM*", f"a {nonce_len}-byte nonce leaves a {15 - nonce_len}-byte length field: messages "
                             f"must be shorter than 2**{8 * (15 - nonce_len)} bytes, got {msg_len}")
    return check_rc(rc, "CCM*")


# Single frames: bytes arguments (the common case) are read in place; any other contiguous buffer is held
# through the buffer protocol for the call.

def ccm_encrypt(key, nonce, plaintext, aad, Py_ssize_t mic_len):
    return ccm_one(False, key, nonce, plaintext, aad, mic_len)


def ccm_decrypt(key, nonce, data, aad, Py_ssize_t mic_len):
    return ccm_one(True, key, nonce, data, aad, mic_len)


ctypedef int (*ccm_fn)(const uint8_t *key, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                       size_t aad_len, const uint8_t *inp, size_t in_len, size_t mic_len, uint8_t *out) noexcept nogil


cdef bytes ccm_one(bint decrypt, key, nonce, data, aad, Py_ssize_t mic_len):
    """One frame: data is the plaintext (encrypt) or the ciphertext then MIC (decrypt)."""
    cdef Held held
    held.count = 0
    cdef Py_ssize_t key_len, nonce_len, n, aad_len, out_len
    cdef const uint8_t *k
    cdef const uint8_t *nc
    cdef const uint8_t *d
    cdef const uint8_t *a
    cdef ccm_fn run = alt_ccm_decrypt if decrypt else alt_ccm_encrypt
    cdef int rc
    try:
        k = take(&held, key, &key_len, "key")
        nc = take(&held, nonce, &nonce_len, "nonce")
        d = take(&held, data, &n, "data" if decrypt else "plaintext")
        a = take(&held, aad, &aad_len, "aad")
        check_key(key_len)
        if decrypt:
            check_params(nonce_len, mic_len, 0)
            if mic_len > n:
                raise InvalidTag(f"a CCM* frame with a {mic_len}-byte MIC has at least {mic_len} bytes, got {n}")
            out_len = n - mic_len
            check_params(nonce_len, mic_len, out_len)
        else:
            out_len = n + mic_len
            check_params(nonce_len, mic_len, n)
        out = PyBytes_FromStringAndSize(NULL, out_len)
        o = <uint8_t *>PyBytes_AS_STRING(out)
        if n >= RELEASE_GIL_FROM:
            with nogil:
                rc = run(k, nc, nonce_len, a, aad_len, d, n, mic_len, o)
        else:
            rc = run(k, nc, nonce_len, a, aad_len, d, n, mic_len, o)
        if decrypt:
            check_rc(rc, "CCM* decryption",
                     "CCM* MIC does not verify: wrong key, nonce or AAD, or the frame was altered")
        check_rc(rc, "CCM* encryption")
        return out
    finally:
        release(&held)


def ccm_batch(bint decrypt, const unsigned char[::1] keys not None, Py_ssize_t key_count,
              const int64_t[::1] key_index, const unsigned char[::1] nonces not None, Py_ssize_t nonce_len,
              const unsigned char[::1] aad, const int64_t[::1] aad_offsets, Py_ssize_t aad_stride,
              const unsigned char[::1] frames not None, const int64_t[::1] frame_offsets,
              Py_ssize_t frame_stride, Py_ssize_t n, unsigned char[::1] out not None, Py_ssize_t mic_len,
              unsigned char[::1] ok not None):
    """Raw batch entry over numpy arrays: althan_ota.ccm has already checked shapes, offsets and lengths."""
    cdef alt_ccm_batch b
    b.n = n
    b.keys = ptr(keys)
    b.key_count = key_count
    b.key_index = &key_index[0] if key_index is not None and key_index.shape[0] else NULL
    b.nonces = ptr(nonces)
    b.nonce_len = nonce_len
    b.aad.data = ptr(aad)
    b.aad.offsets = &aad_offsets[0] if aad_offsets is not None else NULL
    b.aad.stride = aad_stride
    b.in_.data = ptr(frames)
    b.in_.offsets = &frame_offsets[0] if frame_offsets is not None else NULL
    b.in_.stride = frame_stride
    b.out = <uint8_t *>ptr(out)
    b.mic_len = mic_len
    b.ok = <uint8_t *>ptr(ok)
    cdef int rc
    with nogil:
        rc = alt_ccm_decrypt_batch(&b) if decrypt else alt_ccm_encrypt_batch(&b)
    if rc == ALT_ERANGE:
        check_rc(rc, "CCM* batch", f"a frame is too long for a {nonce_len}-byte nonce: the {15 - nonce_len}-byte "
                                   f"length field allows fewer than 2**{8 * (15 - nonce_len)} bytes")
    check_rc(rc, "CCM* batch")
