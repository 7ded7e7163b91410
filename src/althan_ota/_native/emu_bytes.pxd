# Declarations of csrc/emu_bytes.h.

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

from .emu cimport alt_emu_control

cdef extern from "emu_bytes.h" nogil:
    ctypedef struct alt_emu_bytes_params:
        const uint8_t *image
        uint64_t image_size
        uint32_t block_size
        uint8_t expected_hash[32]
        uint64_t seed
        double corrupt_image_prob
        uint32_t corrupt_bytes
        double ber
        uint16_t manufacturer
        uint16_t image_type
        uint32_t file_version
    ctypedef struct alt_emu_bytes_timing:
        const uint64_t *installation
        const uint8_t *outcome
        const uint32_t *exchanges
        const uint32_t *exchange_retries
        const double *han_per
        const double *bridge_per
        const uint64_t *lost_first
        const uint32_t *lost_runs
    ctypedef struct alt_emu_bytes_outputs:
        uint32_t *frames_built
        uint32_t *frames_rejected_fcs
        uint32_t *frames_rejected_mic
        uint32_t *undetected_errors
        uint8_t *hash_ok
        uint8_t *image_corrupted
    int alt_emu_bytes_check(const alt_emu_bytes_params *p)
    int alt_emu_bytes_run(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *inp, size_t n,
                          const alt_emu_bytes_outputs *out, int n_threads, alt_emu_control *ctl)
    void alt_emu_bytes_device_key(uint64_t seed, uint64_t installation, int side, uint8_t key[16])
    int alt_emu_bytes_device_frames(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *inp, size_t row,
                                    uint64_t first, size_t cap, uint8_t *out, size_t stride, uint16_t *lens,
                                    uint8_t *corrupted, uint32_t *offsets, size_t *count)
