# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin wrapper of the emulator's byte pass (csrc/emu_bytes.h): fill the parameter struct, run without the GIL."""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

cdef extern from "emu.h":
    ctypedef struct alt_emu_control:
        pass
    alt_emu_control *alt_emu_control_new()
    void alt_emu_control_free(alt_emu_control *ctl)
    void alt_emu_control_stop(alt_emu_control *ctl) nogil
    uint64_t alt_emu_control_done(const alt_emu_control *ctl) nogil

cdef extern from "emu_bytes.h":
    ctypedef struct alt_emu_bytes_params:
        const uint8_t *image
        uint64_t image_size
        uint32_t block_size
        uint8_t expected_hash[32]
        uint64_t seed
        double corrupt_image_prob
        uint32_t corrupt_bytes
        double ber
        uint32_t max_consecutive_failures
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
    ctypedef struct alt_emu_bytes_outputs:
        uint32_t *frames_built
        uint32_t *frames_rejected_fcs
        uint32_t *frames_rejected_mic
        uint32_t *undetected_errors
        uint8_t *hash_ok
        uint8_t *image_corrupted
    int alt_emu_bytes_check(const alt_emu_bytes_params *p)
    int alt_emu_bytes_run(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *inp, size_t n,
                          const alt_emu_bytes_outputs *out, int n_threads, alt_emu_control *ctl) nogil
    void alt_emu_bytes_device_key(uint64_t seed, uint64_t installation, int side, uint8_t key[16])
    int alt_emu_bytes_device_frames(const alt_emu_bytes_params *p, const alt_emu_bytes_timing *inp, size_t row,
                                    uint64_t first, size_t cap, uint8_t *out, size_t stride, uint16_t *lens,
                                    uint8_t *corrupted, uint32_t *offsets, size_t *count) nogil

import numpy as np

from ..errors import ParameterError

# what the timing run gives the byte pass: column -> dtype, per device unless noted
TIMING_COLUMNS = {"outcome": "u1", "exchanges": "u4", "exchange_retries": "u4"}
UNIT_COLUMNS = {"installation": "u8", "han_per": "f8", "bridge_per": "f8"}
OUTPUT_COLUMNS = {"frames_built": "u4", "frames_rejected_fcs": "u4", "frames_rejected_mic": "u4",
                  "undetected_errors": "u4", "hash_ok": "u1", "image_corrupted": "u1"}
DEF_STRIDE = 128
cdef size_t STRIDE = DEF_STRIDE


def device_key(uint64_t seed, uint64_t installation, int side):
    """The device's 16-byte NWK key (see csrc/emu_bytes.h)."""
    if side not in (0, 1):
        raise ParameterError(f"side must be 0 (hub-side) or 1 (meter-side), got {side}")
    cdef uint8_t key[16]
    alt_emu_bytes_device_key(seed, installation, side, key)
    return bytes(key[:16])


cdef class Pass:
    """One byte pass: the C parameters, the timing columns it reads, the output columns it fills."""
    cdef alt_emu_bytes_params p
    cdef alt_emu_bytes_timing t
    cdef alt_emu_bytes_outputs out
    cdef alt_emu_control *ctl
    cdef object keep
    cdef readonly Py_ssize_t n

    def __cinit__(self):
        self.ctl = alt_emu_control_new()
        if self.ctl == NULL:
            raise MemoryError()

    def __dealloc__(self):
        alt_emu_control_free(self.ctl)

    def __init__(self, image, unsigned int block_size, expected_hash, unsigned long long seed,
                 double corrupt_image_prob, unsigned int corrupt_bytes, double ber,
                 unsigned int max_consecutive_failures, dict timing, dict out, tuple identity):
        """image: any contiguous buffer; expected_hash: 32 bytes; timing: TIMING_COLUMNS (2n rows) and
        UNIT_COLUMNS (n rows); out: OUTPUT_COLUMNS arrays of 2n rows, filled by execute(); identity:
        (manufacturer code, image type, file version) the frames carry."""
        cdef const uint8_t[::1] img = image
        cdef const uint8_t[::1] digest = expected_hash
        if img.shape[0] == 0:
            raise ParameterError("the image is empty")
        if digest.shape[0] != 32:
            raise ParameterError(f"expected_hash must be a 32-byte SHA-256 digest, got {digest.shape[0]} bytes")
        self.n = timing["installation"].shape[0]
        self.keep = [image, timing, out]
        self.p.image = &img[0]
        self.p.image_size = img.shape[0]
        self.p.block_size = block_size
        memcpy(self.p.expected_hash, &digest[0], 32)
        self.p.seed = seed
        self.p.corrupt_image_prob = corrupt_image_prob
        self.p.corrupt_bytes = corrupt_bytes
        self.p.ber = ber
        self.p.max_consecutive_failures = max_consecutive_failures
        manufacturer, image_type, file_version = identity
        if not (0 <= manufacturer <= 0xFFFF and 0 <= image_type <= 0xFFFF and 0 <= file_version <= 0xFFFFFFFF):
            raise ParameterError(f"image identity out of range: {identity}")
        self.p.manufacturer = manufacturer
        self.p.image_type = image_type
        self.p.file_version = file_version
        if alt_emu_bytes_check(&self.p) != 0:
            raise ParameterError("byte-pass parameters rejected by the C engine (a validation gap: please report)")
        for name, dtype in TIMING_COLUMNS.items():
            _check(timing, name, dtype, 2 * self.n, False)
        for name, dtype in UNIT_COLUMNS.items():
            _check(timing, name, dtype, self.n, False)
        for name, dtype in OUTPUT_COLUMNS.items():
            _check(out, name, dtype, 2 * self.n, True)
        if self.n == 0:
            return
        cdef const uint64_t[::1] inst = timing["installation"]
        cdef const uint8_t[::1] outcome = timing["outcome"]
        cdef const uint32_t[::1] ex = timing["exchanges"]
        cdef const uint32_t[::1] rep = timing["exchange_retries"]
        cdef const double[::1] han = timing["han_per"]
        cdef const double[::1] bridge = timing["bridge_per"]
        self.t.installation = &inst[0]
        self.t.outcome = &outcome[0]
        self.t.exchanges = &ex[0]
        self.t.exchange_retries = &rep[0]
        self.t.han_per = &han[0]
        self.t.bridge_per = &bridge[0]
        cdef uint32_t[::1] built = out["frames_built"]
        cdef uint32_t[::1] fcs = out["frames_rejected_fcs"]
        cdef uint32_t[::1] mic = out["frames_rejected_mic"]
        cdef uint32_t[::1] und = out["undetected_errors"]
        cdef uint8_t[::1] ok = out["hash_ok"]
        cdef uint8_t[::1] corrupted = out["image_corrupted"]
        self.out.frames_built = &built[0]
        self.out.frames_rejected_fcs = &fcs[0]
        self.out.frames_rejected_mic = &mic[0]
        self.out.undetected_errors = &und[0]
        self.out.hash_ok = &ok[0]
        self.out.image_corrupted = &corrupted[0]

    def execute(self, int n_threads):
        """Runs the pass without the GIL; returns the C status (0, or -6 if stopped)."""
        cdef int status
        if n_threads < 1:
            raise ParameterError(f"n_threads must be >= 1, got {n_threads}")
        with nogil:
            status = alt_emu_bytes_run(&self.p, &self.t, self.n, &self.out, n_threads, self.ctl)
        return status

    def done(self):
        """Installations finished so far (safe to call from any thread while execute() runs)."""
        return alt_emu_control_done(self.ctl)

    def stop(self):
        alt_emu_control_stop(self.ctl)

    def device_frames(self, Py_ssize_t row, unsigned long long first, Py_ssize_t count, bint offsets=False):
        """Frames first .. first + count - 1 of device `row`, as the pass sends them: (list of PSDUs,
        uint8 array: 1 where the frame was corrupted), and with `offsets` a uint32 array of the file offset each
        frame carries (as built, before any corruption)."""
        if not 0 <= row < 2 * self.n:
            raise ParameterError(f"row must be in [0, {2 * self.n}), got {row}")
        if count < 0:
            raise ParameterError(f"count must be >= 0, got {count}")
        buf = np.empty(max(count, 1) * DEF_STRIDE, dtype=np.uint8)
        lens = np.empty(max(count, 1), dtype=np.uint16)
        corrupted = np.empty(max(count, 1), dtype=np.uint8)
        at = np.empty(max(count, 1), dtype=np.uint32)
        cdef uint32_t[::1] o = at
        cdef uint8_t[::1] b = buf
        cdef uint16_t[::1] l = lens
        cdef uint8_t[::1] c = corrupted
        cdef size_t got = 0
        cdef int rc
        with nogil:
            rc = alt_emu_bytes_device_frames(&self.p, &self.t, row, first, count, &b[0], STRIDE, &l[0], &c[0],
                                             &o[0], &got)
        if rc != 0:
            raise ParameterError(f"device_frames failed (status {rc})")
        sizes = lens[:got].tolist()     # Python ints: numpy's uint16 would wrap i * STRIDE + size past 65535
        frames = [bytes(buf[i * DEF_STRIDE:i * DEF_STRIDE + sizes[i]]) for i in range(got)]
        if offsets:
            return frames, corrupted[:got].copy(), at[:got].copy()
        return frames, corrupted[:got].copy()


cdef _check(dict cols, str name, str dtype, Py_ssize_t n, bint writeable):
    arr = cols[name]
    if arr.dtype.str[1:] != dtype or arr.shape != (n,) or not arr.flags.c_contiguous or \
            (writeable and not arr.flags.writeable):
        raise ParameterError(f"{name} must be a contiguous {dtype} array of {n}")
