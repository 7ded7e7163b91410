# Declarations of csrc/aes.h.

from libc.stdint cimport uint8_t

cdef extern from "aes.h" nogil:
    ctypedef struct alt_aes128_key:
        pass
    int alt_aes128_expand_key(const uint8_t *key, alt_aes128_key *ks)
    int alt_aes128_encrypt_ecb(const alt_aes128_key *ks, const uint8_t *inp, size_t length, uint8_t *out)
    int alt_aes_mmo(const uint8_t *data, size_t length, uint8_t *digest)
    size_t ALT_AES_MMO_MAX_LEN
