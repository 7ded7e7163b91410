# cython: language_level=3, boundscheck=False, wraparound=False
"""The "aes" kernel family: AES-128 (forward cipher), ZigBee AES-MMO and CCM*, on one set of CPU tiers.

Thin wrappers: arguments are checked here with the GIL held, the C core runs without it. The public API is
althan_ota.checksum (aes_mmo) and althan_ota.ccm.
"""

from libc.stdint cimport int64_t, uint8_t
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE

from ..errors import BackendError, InvalidTag, ParameterError


cdef extern from "alt_status.h":
    enum:
        ALT_OK
        ALT_EINVAL
        ALT_EAUTH
        ALT_ENOMEM
        ALT_ERANGE


cdef extern from "aes.h" nogil:
    ctypedef struct alt_aes128_key:
        pass
    int alt_aes_tier_count()
    const char *alt_aes_tier_name(int tier)
    int alt_aes_set_tier(int tier)
    int alt_aes_get_tier()
    int alt_aes128_expand_key(const uint8_t *key, alt_aes128_key *ks)
    int alt_aes128_encrypt_ecb(const alt_aes128_key *ks, const uint8_t *inp, size_t length, uint8_t *out)
    int alt_aes_mmo(const uint8_t *data, size_t length, uint8_t *digest)
    size_t ALT_AES_MMO_MAX_LEN


cdef extern from "ccm.h" nogil:
    int alt_ccm_check_params(size_t nonce_len, size_t mic_len, size_t msg_len)
    int alt_ccm_encrypt(const uint8_t *key, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                        size_t aad_len, const uint8_t *pt, size_t length, size_t mic_len, uint8_t *out)
    int alt_ccm_decrypt(const uint8_t *key, const uint8_t *nonce, size_t nonce_len, const uint8_t *aad,
                        size_t aad_len, const uint8_t *inp, size_t in_len, size_t mic_len, uint8_t *pt)
    ctypedef struct alt_ccm_spans:
        const uint8_t *data
        const int64_t *offsets
        size_t stride
    ctypedef struct alt_ccm_batch:
        size_t n
        const uint8_t *keys
        size_t key_count
        const int64_t *key_index
        const uint8_t *nonces
        size_t nonce_len
        alt_ccm_spans aad
        alt_ccm_spans in_ "in"
        uint8_t *out
        size_t mic_len
        uint8_t *ok
    int alt_ccm_encrypt_batch(const alt_ccm_batch *batch)
    int alt_ccm_decrypt_batch(const alt_ccm_batch *batch)


# Below this many bytes a call is shorter than releasing and re-taking the GIL.
cdef enum:
    NOGIL_MIN = 4096

cdef const uint8_t EMPTY[1]


cdef inline const uint8_t *ptr(const unsigned char[::1] buf) noexcept nogil:
    return &buf[0] if buf.shape[0] else EMPTY


def tier_names():
    return tuple(alt_aes_tier_name(i).decode() for i in range(alt_aes_tier_count()))


def get_tier():
    return alt_aes_tier_name(alt_aes_get_tier()).decode()


def set_tier(str name):
    names = tier_names()
    if name not in names:
        raise BackendError(f"aes has no tier {name!r} here; available: {list(names)}")
    alt_aes_set_tier(names.index(name))


cdef check_key(const unsigned char[::1] key):
    if key.shape[0] != 16:
        raise ParameterError(f"an AES-128 key is 16 bytes, got {key.shape[0]}")


def ecb_encrypt(const unsigned char[::1] key not None, const unsigned char[::1] data not None):
    """AES-128-ECB encryption of whole blocks (for tests and benchmarks; never a mode to protect data)."""
    check_key(key)
    cdef size_t n = data.shape[0]
    if n % 16:
        raise ParameterError(f"ECB needs whole 16-byte blocks, got {n} bytes")
    cdef alt_aes128_key ks
    out = PyBytes_FromStringAndSize(NULL, n)
    cdef uint8_t *o = <uint8_t *>PyBytes_AS_STRING(out)
    alt_aes128_expand_key(&key[0], &ks)
    if n >= NOGIL_MIN:
        with nogil:
            alt_aes128_encrypt_ecb(&ks, ptr(data), n, o)
    else:
        alt_aes128_encrypt_ecb(&ks, ptr(data), n, o)
    return out


def aes_mmo(data):
    if type(data) is bytes:
        return _mmo(<const uint8_t *>PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
    return _mmo_view(data)


cdef _mmo_view(const unsigned char[::1] data):
    return _mmo(ptr(data), data.shape[0])


cdef _mmo(const uint8_t *data, size_t n):
    if n >= ALT_AES_MMO_MAX_LEN:
        raise ParameterError(f"AES-MMO takes fewer than {ALT_AES_MMO_MAX_LEN} bytes (32-bit bit length), "
                             f"got {n}")
    cdef uint8_t digest[16]
    if n >= NOGIL_MIN:
        with nogil:
            alt_aes_mmo(data, n, digest)
    else:
        alt_aes_mmo(data, n, digest)
    return digest[:16]


cdef raise_params(Py_ssize_t nonce_len, Py_ssize_t mic_len, Py_ssize_t msg_len):
    rc = alt_ccm_check_params(nonce_len, mic_len, msg_len)
    if rc == ALT_EINVAL:
        if not 7 <= nonce_len <= 13:
            raise ParameterError(f"a CCM nonce is 7 to 13 bytes, got {nonce_len}")
        raise ParameterError(f"a CCM* MIC is 0, 4, 6, 8, 10, 12, 14 or 16 bytes, got {mic_len}")
    if rc == ALT_ERANGE:
        raise ParameterError(f"a {nonce_len}-byte nonce leaves a {15 - nonce_len}-byte length field: messages "
                             f"must be shorter than 2**{8 * (15 - nonce_len)} bytes, got {msg_len}")


# Single frames: bytes arguments (the common case) skip the buffer protocol; anything else goes through
# typed memoryviews, which also reject non-contiguous and non-byte buffers with a clear TypeError/ValueError.

cdef inline bint all_bytes(a, b, c, d):
    return type(a) is bytes and type(b) is bytes and type(c) is bytes and type(d) is bytes


cdef inline const uint8_t *bp(bytes b):
    return <const uint8_t *>PyBytes_AS_STRING(b)


def ccm_encrypt(key, nonce, plaintext, aad, Py_ssize_t mic_len):
    if all_bytes(key, nonce, plaintext, aad):
        return _encrypt(bp(key), len(key), bp(nonce), len(nonce), bp(plaintext), len(plaintext), bp(aad),
                        len(aad), mic_len)
    return _encrypt_views(key, nonce, plaintext, aad, mic_len)


def ccm_decrypt(key, nonce, data, aad, Py_ssize_t mic_len):
    if all_bytes(key, nonce, data, aad):
        return _decrypt(bp(key), len(key), bp(nonce), len(nonce), bp(data), len(data), bp(aad), len(aad),
                        mic_len)
    return _decrypt_views(key, nonce, data, aad, mic_len)


cdef _encrypt_views(const unsigned char[::1] key, const unsigned char[::1] nonce,
                    const unsigned char[::1] plaintext, const unsigned char[::1] aad, Py_ssize_t mic_len):
    return _encrypt(ptr(key), key.shape[0], ptr(nonce), nonce.shape[0], ptr(plaintext), plaintext.shape[0],
                    ptr(aad), aad.shape[0], mic_len)


cdef _decrypt_views(const unsigned char[::1] key, const unsigned char[::1] nonce,
                    const unsigned char[::1] data, const unsigned char[::1] aad, Py_ssize_t mic_len):
    return _decrypt(ptr(key), key.shape[0], ptr(nonce), nonce.shape[0], ptr(data), data.shape[0],
                    ptr(aad), aad.shape[0], mic_len)


cdef _encrypt(const uint8_t *key, Py_ssize_t key_len, const uint8_t *nonce, Py_ssize_t nonce_len,
              const uint8_t *pt, Py_ssize_t n, const uint8_t *aad, Py_ssize_t aad_len, Py_ssize_t mic_len):
    if key_len != 16:
        raise ParameterError(f"an AES-128 key is 16 bytes, got {key_len}")
    raise_params(nonce_len, mic_len, n)
    out = PyBytes_FromStringAndSize(NULL, n + mic_len)
    cdef uint8_t *o = <uint8_t *>PyBytes_AS_STRING(out)
    if n >= NOGIL_MIN:
        with nogil:
            alt_ccm_encrypt(key, nonce, nonce_len, aad, aad_len, pt, n, mic_len, o)
    else:
        alt_ccm_encrypt(key, nonce, nonce_len, aad, aad_len, pt, n, mic_len, o)
    return out


cdef _decrypt(const uint8_t *key, Py_ssize_t key_len, const uint8_t *nonce, Py_ssize_t nonce_len,
              const uint8_t *data, Py_ssize_t n, const uint8_t *aad, Py_ssize_t aad_len, Py_ssize_t mic_len):
    if key_len != 16:
        raise ParameterError(f"an AES-128 key is 16 bytes, got {key_len}")
    raise_params(nonce_len, mic_len, 0)
    if mic_len > n:
        raise InvalidTag(f"a CCM* frame with a {mic_len}-byte MIC has at least {mic_len} bytes, got {n}")
    raise_params(nonce_len, mic_len, n - mic_len)
    out = PyBytes_FromStringAndSize(NULL, n - mic_len)
    cdef uint8_t *o = <uint8_t *>PyBytes_AS_STRING(out)
    cdef int rc
    if n >= NOGIL_MIN:
        with nogil:
            rc = alt_ccm_decrypt(key, nonce, nonce_len, aad, aad_len, data, n, mic_len, o)
    else:
        rc = alt_ccm_decrypt(key, nonce, nonce_len, aad, aad_len, data, n, mic_len, o)
    if rc == ALT_EAUTH:
        raise InvalidTag("CCM* MIC does not verify: wrong key, nonce or AAD, or the frame was altered")
    return out


def ccm_batch(bint decrypt, const unsigned char[::1] keys not None, Py_ssize_t key_count,
              const int64_t[::1] key_index, const unsigned char[::1] nonces not None, Py_ssize_t nonce_len,
              const unsigned char[::1] aad, const int64_t[::1] aad_offsets, Py_ssize_t aad_stride,
              const unsigned char[::1] frames not None, const int64_t[::1] frame_offsets,
              Py_ssize_t frame_stride, Py_ssize_t n, unsigned char[::1] out not None, Py_ssize_t mic_len,
              unsigned char[::1] ok not None):
    """Raw batch entry: althan_ota.ccm has already checked shapes, offsets and lengths."""
    cdef alt_ccm_batch b
    b.n = n
    b.keys = ptr(keys)
    b.key_count = key_count
    b.key_index = &key_index[0] if key_index is not None and key_index.shape[0] else NULL
    b.nonces = ptr(nonces)
    b.nonce_len = nonce_len
    b.aad.data = ptr(aad) if aad is not None else NULL
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
    if rc == ALT_ENOMEM:
        raise MemoryError("CCM* batch: no memory for the key table")
    if rc == ALT_ERANGE:
        raise ParameterError(f"a frame is too long for a {nonce_len}-byte nonce: the {15 - nonce_len}-byte "
                             f"length field allows fewer than 2**{8 * (15 - nonce_len)} bytes")
    if rc != ALT_OK:
        raise ParameterError(f"CCM* batch rejected its arguments (status {rc})")
