# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin wrapper of the emulator's byte pass (csrc/emu_bytes.h): fill the parameter struct, run without the GIL."""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

from ._buffers cimport Held, array_data, release, take
from ._emu cimport Control
from ._status cimport check_rc
from .alt_status cimport ALT_EINVAL
from .emu_bytes cimport (alt_emu_bytes_check, alt_emu_bytes_device_frames, alt_emu_bytes_device_key,
                         alt_emu_bytes_outputs, alt_emu_bytes_params, alt_emu_bytes_run, alt_emu_bytes_timing)

import numpy as np

from ..errors import ParameterError

# what the timing run gives the byte pass: column -> dtype, per device unless noted
TIMING_COLUMNS = {"outcome": "u1", "exchanges": "u4", "exchange_retries": "u4"}
UNIT_COLUMNS = {"installation": "u8", "han_per": "f8", "bridge_per": "f8"}
OUTPUT_COLUMNS = {"frames_built": "u4", "frames_rejected_fcs": "u4", "frames_rejected_mic": "u4",
                  "undetected_errors": "u4", "hash_ok": "u1", "image_corrupted": "u1"}
DEF_STRIDE = 128
_NO_RUNS = np.zeros(2, dtype=np.uint32)
cdef size_t STRIDE = DEF_STRIDE


def device_key(uint64_t seed, uint64_t installation, int side):
    """The device's 16-byte NWK key (see csrc/emu_bytes.h)."""
    if side not in (0, 1):
        raise ParameterError(f"side must be 0 (hub-side) or 1 (meter-side), got {side}")
    cdef uint8_t key[16]
    alt_emu_bytes_device_key(seed, installation, side, key)
    return bytes(key[:16])


cdef class Pass(Control):
    """One byte pass: the C parameters, the timing columns it reads, the output columns it fills."""
    cdef alt_emu_bytes_params p
    cdef alt_emu_bytes_timing t
    cdef alt_emu_bytes_outputs out
    cdef Held held            # the image and expected hash, held until the pass goes
    cdef object keep          # the arrays the C structs point into
    cdef readonly Py_ssize_t n

    def __dealloc__(self):
        release(&self.held)

    def __init__(self, image, unsigned int block_size, expected_hash, unsigned long long seed,
                 double corrupt_image_prob, unsigned int corrupt_bytes, double ber,
                 lost_first, lost_runs, dict timing, dict out, tuple identity):
        """image: any contiguous buffer; expected_hash: 32 bytes; lost_first, lost_runs: where the timing run
        lost each device's exchanges (Run.lost_runs(): uint64, 2n + 1 entries; uint32 (slot, count) pairs);
        timing: TIMING_COLUMNS (2n rows) and UNIT_COLUMNS (n rows); out: OUTPUT_COLUMNS arrays of 2n rows,
        filled by execute(); identity: (manufacturer code, image type, file version) the frames carry."""
        release(&self.held)
        cdef Py_ssize_t image_size, digest_size
        self.p.image = take(&self.held, image, &image_size, "image")
        cdef const uint8_t *digest = take(&self.held, expected_hash, &digest_size, "expected_hash")
        if image_size == 0:
            raise ParameterError("the image is empty")
        if digest_size != 32:
            raise ParameterError(f"expected_hash must be a 32-byte SHA-256 digest, got {digest_size} bytes")
        self.n = timing["installation"].shape[0]
        self.keep = [image, expected_hash, timing, out, lost_first, lost_runs]
        self.p.image_size = image_size
        self.p.block_size = block_size
        memcpy(self.p.expected_hash, digest, 32)
        self.p.seed = seed
        self.p.corrupt_image_prob = corrupt_image_prob
        self.p.corrupt_bytes = corrupt_bytes
        self.p.ber = ber
        manufacturer, image_type, file_version = identity
        if not (0 <= manufacturer <= 0xFFFF and 0 <= image_type <= 0xFFFF and 0 <= file_version <= 0xFFFFFFFF):
            raise ParameterError(f"image identity out of range: {identity}")
        self.p.manufacturer = manufacturer
        self.p.image_type = image_type
        self.p.file_version = file_version
        check_rc(alt_emu_bytes_check(&self.p), "the byte pass",
                 "byte-pass parameters rejected by the C engine (a validation gap: please report)")
        cdef Py_ssize_t rows = 2 * self.n
        self.t.installation = <const uint64_t *>column(timing, "installation", self.n, False)
        self.t.outcome = <const uint8_t *>column(timing, "outcome", rows, False)
        self.t.exchanges = <const uint32_t *>column(timing, "exchanges", rows, False)
        self.t.exchange_retries = <const uint32_t *>column(timing, "exchange_retries", rows, False)
        self.t.han_per = <const double *>column(timing, "han_per", self.n, False)
        self.t.bridge_per = <const double *>column(timing, "bridge_per", self.n, False)
        self.t.lost_first = <const uint64_t *>array_data(lost_first, "u8", rows + 1, "lost_first", False)
        if not isinstance(lost_runs, np.ndarray) or lost_runs.ndim != 1:
            raise ParameterError("lost_runs must be a 1-d uint32 array of (slot, count) pairs")
        runs = int(lost_first[rows])
        steps = np.diff(lost_first.astype(np.int64))
        if lost_first[0] != 0 or (steps.size and steps.min() < 0) or lost_runs.shape != (2 * runs,):
            raise ParameterError(f"lost_first does not index the {lost_runs.shape[0] // 2} runs of lost_runs")
        # an empty array may have no buffer behind it: the C pass reads no run then, but wants a pointer
        self.t.lost_runs = <const uint32_t *>array_data(lost_runs if runs else _NO_RUNS, "u4",
                                                        2 * runs if runs else 2, "lost_runs", False)
        self.out.frames_built = <uint32_t *>column(out, "frames_built", rows, True)
        self.out.frames_rejected_fcs = <uint32_t *>column(out, "frames_rejected_fcs", rows, True)
        self.out.frames_rejected_mic = <uint32_t *>column(out, "frames_rejected_mic", rows, True)
        self.out.undetected_errors = <uint32_t *>column(out, "undetected_errors", rows, True)
        self.out.hash_ok = <uint8_t *>column(out, "hash_ok", rows, True)
        self.out.image_corrupted = <uint8_t *>column(out, "image_corrupted", rows, True)

    def execute(self, int n_threads):
        """Runs the pass without the GIL; KeyboardInterrupt if stop() ended it early."""
        cdef int status
        if n_threads < 1:
            raise ParameterError(f"n_threads must be >= 1, got {n_threads}")
        with nogil:
            status = alt_emu_bytes_run(&self.p, &self.t, self.n, &self.out, n_threads, self.ctl)
        if status == ALT_EINVAL:     # everything else was checked when the pass was made
            raise ParameterError("the byte pass: a device's lost runs disagree with its timing counts (their "
                                 "counts must add up to its exchange_retries, at increasing blocks it reached)")
        check_rc(status, "the byte pass")

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
        check_rc(rc, "device_frames")
        sizes = lens[:got].tolist()     # Python ints: numpy's uint16 would wrap i * STRIDE + size past 65535
        frames = [bytes(buf[i * DEF_STRIDE:i * DEF_STRIDE + sizes[i]]) for i in range(got)]
        if offsets:
            return frames, corrupted[:got].copy(), at[:got].copy()
        return frames, corrupted[:got].copy()


cdef void *column(dict cols, str name, Py_ssize_t n, bint writeable) except? NULL:
    """Column name of cols, n rows of the dtype TIMING_COLUMNS, UNIT_COLUMNS or OUTPUT_COLUMNS gives it."""
    dtype = {**TIMING_COLUMNS, **UNIT_COLUMNS, **OUTPUT_COLUMNS}[name]
    return array_data(cols[name], dtype, n, name, writeable)
