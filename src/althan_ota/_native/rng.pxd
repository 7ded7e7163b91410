# Declarations of csrc/rng.h.

from libc.stdint cimport uint64_t

cdef extern from "rng.h" nogil:
    ctypedef struct alt_rng:
        uint64_t ctr[4]
    void alt_rng_init(alt_rng *r, uint64_t seed, uint64_t installation, uint64_t stream)
    uint64_t alt_rng_next(alt_rng *r)
