# Declarations of csrc/emu.h.

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

from .emu_lost cimport alt_emu_lost_log

cdef extern from "emu.h" nogil:
    ctypedef struct alt_emu_hop_timing:
        int64_t airtime
        int64_t dc_span
    ctypedef struct alt_emu_link:
        int64_t tx_delay
        int64_t turnaround
        int64_t ack_timeout
        alt_emu_hop_timing ack
        uint32_t max_retries
        double per
        double per_concentration
        double per_bad
        double mean_good_len
        double mean_bad_len
    ctypedef struct alt_emu_shared_access:
        int access
        int64_t cca
        int64_t cca_to_tx
        int64_t unit
        uint32_t min_be
        uint32_t max_be
        uint32_t max_backoffs
        uint32_t max_slots
        uint32_t max_deferrals
    enum: ALT_EMU_RUN_BINS
    ctypedef struct alt_emu_contention:
        uint32_t n_levels
        double *first[2]
        double *repeat[2]
        int64_t *delay[2]
        uint64_t *attempts[2]
    ctypedef struct alt_emu_params:
        alt_emu_link link[2]
        alt_emu_hop_timing frame[6][2][2]
        uint64_t image_size
        uint32_t block_size
        int64_t min_block_period
        int64_t ch_response_delay
        int64_t response_timeout
        int64_t ch_ready_delay
        int64_t wait_for_data_delay
        uint32_t max_consecutive_failures
        int order
        double wan_failure_prob
        double wan_delay_median_s
        double wan_delay_sigma
        double activation_failure_prob
        int64_t activation_time
        int64_t readback_delay
        int64_t deadline
        double mean_up_s[3]
        double mean_down_s[3]
        const int64_t *scheduled[3]
        size_t n_scheduled[3]
        uint64_t seed
        int step_every_exchange
        alt_emu_shared_access shared[2]
        double capture_margin_db
        double rssi_sigma_db
        uint32_t building_cap
        const int64_t *unit_start
        const int64_t *held_until
        const uint64_t *held_start
        int contention_model
        int64_t statistical_step
        const alt_emu_contention *contention
    int alt_emu_contention_calibrate(const alt_emu_params *p, uint32_t max_installations, int n_threads,
                                     alt_emu_contention *t)
    void alt_emu_contention_free(alt_emu_contention *t)
    ctypedef struct alt_emu_exchange_record:
        int64_t t_request
        int64_t t_response
        int64_t t_attempts_end
        uint32_t offset
        uint32_t attempt
        uint8_t kind
        uint8_t result
        uint8_t answered
    ctypedef struct alt_emu_trace:
        alt_emu_exchange_record *records
        const uint64_t *first
        const uint64_t *capacity
        uint64_t *count
    ctypedef struct alt_emu_outputs:
        uint8_t *outcome
        uint8_t *new_version
        double *t_image
        double *t_download_start
        double *t_download_end
        double *t_activation
        double *t_readback
        uint32_t *exchanges
        uint32_t *exchange_retries
        uint32_t *link_retries_han
        uint32_t *link_retries_bridge
        uint32_t *frames_han
        uint32_t *frames_bridge
        double *airtime_han
        double *airtime_bridge
        double *dc_wait
        double *t_end
        double *han_per
        double *bridge_per
        const alt_emu_trace *trace
        alt_emu_lost_log *lost
    enum:
        ALT_EMU_OUTCOMES
    const char *alt_emu_outcome_name(int outcome)
    ctypedef struct alt_emu_control:
        pass
    alt_emu_control *alt_emu_control_new()
    void alt_emu_control_free(alt_emu_control *ctl)
    void alt_emu_control_stop(alt_emu_control *ctl)
    uint64_t alt_emu_control_done(const alt_emu_control *ctl)
    int alt_emu_check(const alt_emu_params *p)
    int alt_emu_check_shared(const alt_emu_params *p)
    int alt_emu_run_buildings(const alt_emu_params *p, const uint64_t *keys, const uint8_t *sides, size_t n,
                              const uint64_t *order, const uint64_t *group_start, size_t n_groups,
                              const uint32_t *han_channel, const uint32_t *bridge_channel, const double *han_per,
                              const double *bridge_per, const alt_emu_outputs *out, int n_threads,
                              alt_emu_control *ctl)
    int alt_emu_run(const alt_emu_params *p, uint64_t first, size_t n, const double *han_per,
                    const double *bridge_per, const alt_emu_outputs *out, int n_threads,
                    alt_emu_control *ctl)
    int alt_emu_run_units(const alt_emu_params *p, const uint64_t *keys, const uint8_t *sides, size_t n,
                          const double *han_per, const double *bridge_per, const alt_emu_outputs *out,
                          int n_threads, alt_emu_control *ctl)
