# Declarations of csrc/ccm.h.

from libc.stdint cimport int64_t, uint8_t

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
