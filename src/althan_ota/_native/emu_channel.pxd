# Declarations of csrc/emu_channel.h.

from libc.stdint cimport int64_t, uint32_t, uint64_t

cdef extern from "emu_channel.h" nogil:
    enum:
        ALT_EMU_ALOHA
        ALT_EMU_NONPERSISTENT
        ALT_EMU_CSMA_802154
        ALT_EMU_LBT
    ctypedef struct alt_emu_channel_params:
        int access
        int64_t cca
        int64_t cca_to_tx
        int64_t unit
        uint32_t min_be, max_be, max_backoffs
        uint32_t max_slots, max_deferrals
        uint32_t n_stations
        int64_t airtime
        int64_t dc_span
        double mean_interarrival
        int64_t duration
        double capture_margin_db
        const double *power_db
        uint64_t seed, key
    ctypedef struct alt_emu_channel_counts:
        uint64_t offered
        uint64_t assessments
        uint64_t busy_assessments
        uint64_t sent
        uint64_t delivered
        uint64_t collided
        uint64_t access_failures
        int64_t busy_ns
        int64_t access_delay_ns
    int alt_emu_channel_check(const alt_emu_channel_params *p)
    int alt_emu_channel_run(const alt_emu_channel_params *p, alt_emu_channel_counts *out, int64_t *station_airtime,
                            int64_t *access_delays, size_t capacity, size_t *n_delays)
