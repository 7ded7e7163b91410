# Declarations of csrc/sha256.h.

from libc.stdint cimport uint8_t

cdef extern from "sha256.h" nogil:
    int alt_sha256(const uint8_t *data, size_t len, uint8_t *out)
    int alt_sha256_blocks(const uint8_t *data, size_t len, size_t block_size, uint8_t *out)
