# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin wrapper of the C fleet emulator (csrc/emu.h): fill the parameter struct, run without the GIL."""

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

cdef extern from "emu.h":
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
    ctypedef struct alt_emu_params:
        alt_emu_link link[2]
        alt_emu_hop_timing frame[3][2][2]
        uint64_t image_size
        uint32_t block_size
        int64_t min_block_period
        int64_t ch_response_delay
        int64_t response_timeout
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
    ctypedef struct alt_emu_exchange_record:
        int64_t t_request
        int64_t t_response
        int64_t t_attempts_end
        uint32_t offset
        uint32_t attempt
        uint8_t kind
        uint8_t result
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
    ctypedef struct alt_emu_control:
        pass
    alt_emu_control *alt_emu_control_new()
    void alt_emu_control_free(alt_emu_control *ctl)
    void alt_emu_control_stop(alt_emu_control *ctl) nogil
    uint64_t alt_emu_control_done(const alt_emu_control *ctl) nogil
    int alt_emu_check(const alt_emu_params *p)
    int alt_emu_run(const alt_emu_params *p, uint64_t first, size_t n, const double *han_per,
                    const double *bridge_per, const alt_emu_outputs *out, int n_threads,
                    alt_emu_control *ctl) nogil
    int alt_emu_run_units(const alt_emu_params *p, const uint64_t *keys, const uint8_t *sides, size_t n,
                          const double *han_per, const double *bridge_per, const alt_emu_outputs *out,
                          int n_threads, alt_emu_control *ctl) nogil

cdef extern from "rng.h":
    ctypedef struct alt_rng:
        uint64_t ctr[4]
    void alt_rng_init(alt_rng *r, uint64_t seed, uint64_t installation, uint64_t stream) nogil
    uint64_t alt_rng_next(alt_rng *r) nogil

import numpy as np

from ..errors import ParameterError


def philox_words(uint64_t seed, uint64_t installation, uint64_t stream, uint64_t first_block, Py_ssize_t n):
    """The emulator's raw random words: n 64-bit words of stream `stream` of `installation` under `seed`,
    from block `first_block` on (four words a block). See csrc/rng.h for the numpy equivalent."""
    if n < 0:
        raise ParameterError(f"n must be >= 0, got {n}")
    out = np.empty(n, dtype=np.uint64)
    cdef uint64_t[::1] view = out
    cdef alt_rng r
    cdef Py_ssize_t i
    alt_rng_init(&r, seed, installation, stream)
    r.ctr[0] = first_block
    with nogil:
        for i in range(n):
            view[i] = alt_rng_next(&r)
    return out

ORDERS = {"meter_first": 0, "hub_first": 1, "concurrent": 2}
KINDS = ("block", "last_block", "upgrade_end")
LINKS = ("han", "bridge")
DEVICE_COLUMNS = {
    "outcome": "u1", "new_version": "u1", "t_image": "f8", "t_download_start": "f8",
    "t_download_end": "f8", "t_activation": "f8", "t_readback": "f8", "exchanges": "u4",
    "exchange_retries": "u4", "link_retries_han": "u4", "link_retries_bridge": "u4", "frames_han": "u4",
    "frames_bridge": "u4", "airtime_han": "f8", "airtime_bridge": "f8", "dc_wait": "f8", "t_end": "f8",
}
INSTALLATION_COLUMNS = {"han_per": "f8", "bridge_per": "f8"}
# one alt_emu_exchange_record (csrc/emu.h): times in ns from the campaign start
RECORD_DTYPE = np.dtype({"names": ["t_request", "t_response", "t_attempts_end", "offset", "attempt", "kind",
                                   "result"],
                         "formats": ["<i8", "<i8", "<i8", "<u4", "<u4", "u1", "u1"],
                         "offsets": [0, 8, 16, 24, 28, 32, 33], "itemsize": sizeof(alt_emu_exchange_record)})


cdef class Run:
    """One emulation run: the C parameters, the caller's output arrays and the stop/progress control."""
    cdef alt_emu_params p
    cdef alt_emu_outputs out
    cdef alt_emu_trace trace
    cdef alt_emu_control *ctl
    cdef object keep          # arrays the C structs point into
    cdef const double *han_per
    cdef const double *bridge_per
    cdef const uint64_t *keys
    cdef const uint8_t *sides
    cdef readonly Py_ssize_t n
    cdef readonly unsigned long long first

    def __cinit__(self):
        self.ctl = alt_emu_control_new()
        if self.ctl == NULL:
            raise MemoryError()

    def __dealloc__(self):
        alt_emu_control_free(self.ctl)

    def __init__(self, dict cfg, unsigned long long first, Py_ssize_t n, han_per, bridge_per, dict out,
                 keys=None, sides=None):
        """cfg: the engine parameters in ns / plain numbers (built by althan_ota.emulate.engine). keys
        (uint64, one per unit) replace the installation numbers first .. first + n - 1; sides (uint8: bit 0
        hub-side, bit 1 meter-side) choose which bridges download."""
        cdef int k, l, d
        cdef const int64_t[::1] sched
        cdef const uint64_t[::1] key_view
        cdef const uint8_t[::1] side_view
        self.keep = [cfg["scheduled"], han_per, bridge_per, out, keys, sides]
        for l, name in enumerate(LINKS):
            c = cfg[name]
            self.p.link[l].tx_delay = c["tx_delay"]
            self.p.link[l].turnaround = c["turnaround"]
            self.p.link[l].ack_timeout = c["ack_timeout"]
            self.p.link[l].ack.airtime = c["ack"][0]
            self.p.link[l].ack.dc_span = c["ack"][1]
            self.p.link[l].max_retries = c["max_retries"]
            self.p.link[l].per = c["per"]
            self.p.link[l].per_concentration = c["per_concentration"]
            self.p.link[l].per_bad = c["per_bad"]
            self.p.link[l].mean_good_len = c["mean_good_len"]
            self.p.link[l].mean_bad_len = c["mean_bad_len"]
            for k, kind in enumerate(KINDS):
                for d in range(2):
                    self.p.frame[k][l][d].airtime = c["frames"][kind][d][0]
                    self.p.frame[k][l][d].dc_span = c["frames"][kind][d][1]
        self.p.image_size = cfg["image_size"]
        self.p.block_size = cfg["block_size"]
        self.p.min_block_period = cfg["min_block_period"]
        self.p.ch_response_delay = cfg["ch_response_delay"]
        self.p.response_timeout = cfg["response_timeout"]
        self.p.max_consecutive_failures = cfg["max_consecutive_failures"]
        self.p.order = ORDERS[cfg["order"]]
        self.p.wan_failure_prob = cfg["wan_failure_prob"]
        self.p.wan_delay_median_s = cfg["wan_delay_median_s"]
        self.p.wan_delay_sigma = cfg["wan_delay_sigma"]
        self.p.activation_failure_prob = cfg["activation_failure_prob"]
        self.p.activation_time = cfg["activation_time"]
        self.p.readback_delay = cfg["readback_delay"]
        self.p.deadline = cfg["deadline"]
        for k in range(3):
            self.p.mean_up_s[k] = cfg["mean_up_s"][k]
            self.p.mean_down_s[k] = cfg["mean_down_s"][k]
        for k in range(3):
            sched = cfg["scheduled"][k]
            self.p.scheduled[k] = &sched[0] if sched.shape[0] else NULL
            self.p.n_scheduled[k] = sched.shape[0] // 2
        self.p.seed = cfg["seed"]
        self.p.step_every_exchange = cfg.get("step_every_exchange", 0)
        if alt_emu_check(&self.p) != 0:
            raise ParameterError("emulator parameters rejected by the C engine (a validation gap: please report)")

        self.first = first
        self.n = n
        self.keys = NULL
        self.sides = NULL
        if keys is not None:
            key_view = keys
            if key_view.shape[0] != n:
                raise ParameterError(f"keys has {key_view.shape[0]} entries for {n} installations")
            self.keys = &key_view[0] if n else NULL
        if sides is not None:
            side_view = sides
            if side_view.shape[0] != n:
                raise ParameterError(f"sides has {side_view.shape[0]} entries for {n} installations")
            self.sides = &side_view[0] if n else NULL
        self.han_per = _doubles(han_per, n, "han_per")
        self.bridge_per = _doubles(bridge_per, n, "bridge_per")
        for name, dtype in DEVICE_COLUMNS.items():
            _check_out(out, name, dtype, 2 * n)
        for name, dtype in INSTALLATION_COLUMNS.items():
            _check_out(out, name, dtype, n)
        self.out.outcome = _u8(out["outcome"])
        self.out.new_version = _u8(out["new_version"])
        self.out.t_image = _f8(out["t_image"])
        self.out.t_download_start = _f8(out["t_download_start"])
        self.out.t_download_end = _f8(out["t_download_end"])
        self.out.t_activation = _f8(out["t_activation"])
        self.out.t_readback = _f8(out["t_readback"])
        self.out.exchanges = _u4(out["exchanges"])
        self.out.exchange_retries = _u4(out["exchange_retries"])
        self.out.link_retries_han = _u4(out["link_retries_han"])
        self.out.link_retries_bridge = _u4(out["link_retries_bridge"])
        self.out.frames_han = _u4(out["frames_han"])
        self.out.frames_bridge = _u4(out["frames_bridge"])
        self.out.airtime_han = _f8(out["airtime_han"])
        self.out.airtime_bridge = _f8(out["airtime_bridge"])
        self.out.dc_wait = _f8(out["dc_wait"])
        self.out.t_end = _f8(out["t_end"])
        self.out.han_per = _f8(out["han_per"])
        self.out.bridge_per = _f8(out["bridge_per"])

    def set_trace(self, records, first, capacity, count):
        """Traces the devices with capacity[row] > 0 into records[first[row]:first[row] + capacity[row]]
        (RECORD_DTYPE); count[row] gets each device's exchanges (more than capacity: the records stop there).
        first, capacity, count: uint64 arrays of one entry per device row."""
        cdef Py_ssize_t rows = 2 * self.n, i
        if not isinstance(records, np.ndarray) or records.dtype != RECORD_DTYPE or records.ndim != 1 or \
                not records.flags.c_contiguous or not records.flags.writeable or records.shape[0] == 0:
            raise ParameterError("records must be a writeable contiguous 1-d array of RECORD_DTYPE, not empty")
        cdef const uint64_t[::1] f = first
        cdef const uint64_t[::1] c = capacity
        cdef uint64_t[::1] k = count
        if f.shape[0] != rows or c.shape[0] != rows or k.shape[0] != rows:
            raise ParameterError(f"first, capacity and count need one entry per device ({rows})")
        for i in range(rows):
            if c[i] and (f[i] > <uint64_t>records.shape[0] or c[i] > <uint64_t>records.shape[0] - f[i]):
                raise ParameterError(f"device {i}'s trace [{f[i]}, {f[i]} + {c[i]}) is outside the "
                                     f"{records.shape[0]} records")
        cdef unsigned char[::1] raw = records.view(np.uint8)
        self.keep.extend([records, first, capacity, count])
        self.trace.records = <alt_emu_exchange_record *>&raw[0]
        self.trace.first = &f[0] if rows else NULL
        self.trace.capacity = &c[0] if rows else NULL
        self.trace.count = &k[0] if rows else NULL
        self.out.trace = &self.trace

    def execute(self, int n_threads):
        """Runs the whole emulation without the GIL; returns the C status (0, or -6 if stopped)."""
        cdef int status
        if n_threads < 1:
            raise ParameterError(f"n_threads must be >= 1, got {n_threads}")
        with nogil:
            if self.keys != NULL:
                status = alt_emu_run_units(&self.p, self.keys, self.sides, self.n, self.han_per,
                                           self.bridge_per, &self.out, n_threads, self.ctl)
            else:
                status = alt_emu_run(&self.p, self.first, self.n, self.han_per, self.bridge_per, &self.out,
                                     n_threads, self.ctl)
        return status

    def done(self):
        """Installations finished so far (safe to call from any thread while execute() runs)."""
        return alt_emu_control_done(self.ctl)

    def stop(self):
        """Asks a running execute() to return early with ALT_EINTR."""
        alt_emu_control_stop(self.ctl)


cdef const double *_doubles(arr, Py_ssize_t n, str name) except? NULL:
    if arr is None:
        return NULL
    cdef const double[::1] view = arr
    if view.shape[0] != n:
        raise ParameterError(f"{name} has {view.shape[0]} entries for {n} installations")
    return &view[0] if n else NULL


cdef _check_out(dict out, str name, str dtype, Py_ssize_t n):
    arr = out[name]
    if arr.dtype.str[1:] != dtype or arr.shape != (n,) or not arr.flags.c_contiguous or not arr.flags.writeable:
        raise ParameterError(f"output {name} must be a writeable contiguous {dtype} array of {n}")


cdef uint8_t *_u8(arr) except? NULL:
    cdef uint8_t[::1] v = arr
    return &v[0] if v.shape[0] else NULL


cdef uint32_t *_u4(arr) except? NULL:
    cdef uint32_t[::1] v = arr
    return &v[0] if v.shape[0] else NULL


cdef double *_f8(arr) except? NULL:
    cdef double[::1] v = arr
    return &v[0] if v.shape[0] else NULL
