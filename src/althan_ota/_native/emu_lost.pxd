# Declarations of csrc/emu_lost.h.

from libc.stdint cimport uint32_t, uint64_t

cdef extern from "emu_lost.h" nogil:
    ctypedef struct alt_emu_lost_log:
        pass
    alt_emu_lost_log *alt_emu_lost_log_new(uint64_t devices)
    void alt_emu_lost_log_free(alt_emu_lost_log *log)
    uint64_t alt_emu_lost_log_runs(const alt_emu_lost_log *log)
    int alt_emu_lost_log_finish(const alt_emu_lost_log *log, uint64_t *first, uint32_t *runs)
