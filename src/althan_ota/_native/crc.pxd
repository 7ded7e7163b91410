# Declarations of csrc/crc.h.

from libc.stdint cimport uint8_t, uint32_t

cdef extern from "crc.h" nogil:
    ctypedef struct alt_crc_model:
        const char *name
        unsigned width
        uint32_t poly
        uint32_t init
        bint reflected
        uint32_t xorout
        uint32_t check
        const char *aliases
    enum:
        ALT_CRC_ALGORITHM_COUNT
    const alt_crc_model *alt_crc_model_get(int algorithm)
    int alt_crc_compute(int algorithm, const uint8_t *data, size_t len, uint32_t *crc)
    int alt_crc_blocks(int algorithm, const uint8_t *data, size_t len, size_t block_size, void *out,
                       size_t out_count)
