# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin wrapper of the C fleet emulator (csrc/emu.h): fill the parameter struct, run without the GIL."""

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

from ._buffers cimport array_data
from ._status cimport check_rc
from .emu cimport (ALT_EMU_OUTCOMES, ALT_EMU_RUN_BINS, alt_emu_check, alt_emu_check_shared, alt_emu_contention,
                   alt_emu_contention_calibrate, alt_emu_contention_free, alt_emu_control_done,
                   alt_emu_control_free, alt_emu_control_new,
                   alt_emu_control_stop, alt_emu_exchange_record, alt_emu_outcome_name, alt_emu_outputs,
                   alt_emu_params, alt_emu_run, alt_emu_run_buildings, alt_emu_run_units, alt_emu_trace)
from .emu_lost cimport (alt_emu_lost_log, alt_emu_lost_log_finish, alt_emu_lost_log_free, alt_emu_lost_log_new,
                       alt_emu_lost_log_runs)
from .rng cimport alt_rng, alt_rng_init, alt_rng_next

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

#: How a device's download ended, by enum alt_emu_outcome value (csrc/emu.h names them).
OUTCOMES = tuple(alt_emu_outcome_name(o).decode() for o in range(ALT_EMU_OUTCOMES))
ORDERS = {"meter_first": 0, "hub_first": 1, "concurrent": 2}
#: channel access on shared air (enum alt_emu_access of csrc/emu_channel.h)
SHARED_ACCESS = {"aloha": 0, "csma_802154": 2, "lbt": 3}
#: how shared air is emulated (enum alt_emu_contention_model of csrc/emu.h)
CONTENTION_MODELS = {"stepped": 0, "statistical": 1}
KINDS = ("block", "last_block", "upgrade_end", "image_notify", "query_next_image", "wait_for_data")
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
                                   "result", "answered"],
                         "formats": ["<i8", "<i8", "<i8", "<u4", "<u4", "u1", "u1", "u1"],
                         "offsets": [0, 8, 16, 24, 28, 32, 33, 34], "itemsize": sizeof(alt_emu_exchange_record)})


cdef class Control:
    """The stop flag and progress counter of one run (the timing engine's or the byte pass), shared with the
    thread that waits for it."""

    def __cinit__(self):
        self.ctl = alt_emu_control_new()
        if self.ctl == NULL:
            raise MemoryError()

    def __dealloc__(self):
        alt_emu_control_free(self.ctl)

    def done(self):
        """Installations finished so far (safe to call from any thread while execute() runs)."""
        return alt_emu_control_done(self.ctl)

    def stop(self):
        """Asks a running execute() to return early: it then raises KeyboardInterrupt."""
        alt_emu_control_stop(self.ctl)


cdef class Run(Control):
    """One emulation run: the C parameters, the caller's output arrays and the stop/progress control."""
    cdef alt_emu_params p
    cdef alt_emu_outputs out
    cdef alt_emu_trace trace
    cdef alt_emu_lost_log *lost   # bytes fidelity: where the devices lost exchanges (csrc/emu_lost.h)
    cdef object keep          # arrays the C structs point into
    cdef const double *han_per
    cdef const double *bridge_per
    cdef const uint64_t *keys
    cdef const uint8_t *sides
    cdef readonly Py_ssize_t n
    cdef readonly unsigned long long first
    cdef const uint64_t *order
    cdef const uint64_t *group_start
    cdef size_t n_groups
    cdef const uint32_t *han_channel
    cdef const uint32_t *bridge_channel
    cdef bint buildings

    def __init__(self, dict cfg, unsigned long long first, Py_ssize_t n, han_per, bridge_per, dict out,
                 keys=None, sides=None):
        """cfg: the engine parameters in ns / plain numbers (built by althan_ota.emulate.engine). keys
        (uint64, one per unit) replace the installation numbers first .. first + n - 1; sides (uint8: bit 0
        hub-side, bit 1 meter-side) choose which bridges download."""
        cdef int k, l, d
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
        self.p.ch_ready_delay = cfg["ch_ready_delay"]
        self.p.wait_for_data_delay = cfg["wait_for_data_delay"]
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
            self.p.scheduled[k] = <const int64_t *>array_data(sched, "i8", len(sched), "scheduled outages", False)
            self.p.n_scheduled[k] = len(sched) // 2
        self.p.seed = cfg["seed"]
        self.p.step_every_exchange = cfg.get("step_every_exchange", 0)
        check_rc(alt_emu_check(&self.p), "the emulator engine",
                 "emulator parameters rejected by the C engine (a validation gap: please report)")

        self.first = first
        self.n = n
        # optional inputs: None leaves the pointer NULL
        self.keys, self.sides, self.han_per, self.bridge_per = NULL, NULL, NULL, NULL
        if keys is not None:
            self.keys = <const uint64_t *>array_data(keys, "u8", n, "keys", False)
        if sides is not None:
            self.sides = <const uint8_t *>array_data(sides, "u1", n, "sides", False)
        if han_per is not None:
            self.han_per = <const double *>array_data(han_per, "f8", n, "han_per", False)
        if bridge_per is not None:
            self.bridge_per = <const double *>array_data(bridge_per, "f8", n, "bridge_per", False)
        cdef Py_ssize_t rows = 2 * n
        self.out.outcome = <uint8_t *>column(out, "outcome", rows)
        self.out.new_version = <uint8_t *>column(out, "new_version", rows)
        self.out.t_image = <double *>column(out, "t_image", rows)
        self.out.t_download_start = <double *>column(out, "t_download_start", rows)
        self.out.t_download_end = <double *>column(out, "t_download_end", rows)
        self.out.t_activation = <double *>column(out, "t_activation", rows)
        self.out.t_readback = <double *>column(out, "t_readback", rows)
        self.out.exchanges = <uint32_t *>column(out, "exchanges", rows)
        self.out.exchange_retries = <uint32_t *>column(out, "exchange_retries", rows)
        self.out.link_retries_han = <uint32_t *>column(out, "link_retries_han", rows)
        self.out.link_retries_bridge = <uint32_t *>column(out, "link_retries_bridge", rows)
        self.out.frames_han = <uint32_t *>column(out, "frames_han", rows)
        self.out.frames_bridge = <uint32_t *>column(out, "frames_bridge", rows)
        self.out.airtime_han = <double *>column(out, "airtime_han", rows)
        self.out.airtime_bridge = <double *>column(out, "airtime_bridge", rows)
        self.out.dc_wait = <double *>column(out, "dc_wait", rows)
        self.out.t_end = <double *>column(out, "t_end", rows)
        self.out.han_per = <double *>column(out, "han_per", n)
        self.out.bridge_per = <double *>column(out, "bridge_per", n)

    def set_buildings(self, dict shared, order, group_start, han_channel, bridge_channel, unit_start=None,
                      held_until=None, held_start=None):
        """Runs with shared air (csrc/emu.h, alt_emu_run_buildings): shared holds per link ("han", "bridge")
        the access dict (access name, cca, cca_to_tx, unit, min_be, max_be, max_backoffs, max_slots,
        max_deferrals; ns) and capture_margin_db (NaN: none), rssi_sigma_db, building_cap (0: no cap). order (u8): units grouped by
        building, each group in canonical order; group_start (u8): n_groups + 1 offsets into order;
        han_channel, bridge_channel (u4): per unit, its channel within its building; unit_start (i8, optional):
        per unit, when it was requested on the building's common clock (ns); held_until (i8) and held_start
        (u8, n_groups + 1 offsets), optional: places of each group held from before, until then. Needs keys."""
        cdef int l
        if self.keys == NULL:
            raise ParameterError("shared air needs installation keys")
        for l, name in enumerate(LINKS):
            a = shared[name]
            self.p.shared[l].access = SHARED_ACCESS[a["access"]]
            self.p.shared[l].cca = a["cca"]
            self.p.shared[l].cca_to_tx = a["cca_to_tx"]
            self.p.shared[l].unit = a["unit"]
            self.p.shared[l].min_be = a["min_be"]
            self.p.shared[l].max_be = a["max_be"]
            self.p.shared[l].max_backoffs = a["max_backoffs"]
            self.p.shared[l].max_slots = a["max_slots"]
            self.p.shared[l].max_deferrals = a["max_deferrals"]
        self.p.capture_margin_db = shared["capture_margin_db"]
        self.p.rssi_sigma_db = shared["rssi_sigma_db"]
        self.p.building_cap = shared["building_cap"]
        model = shared.get("model", "stepped")
        if model not in CONTENTION_MODELS:
            raise ParameterError(f"contention model must be one of {sorted(CONTENTION_MODELS)}, got {model!r}")
        self.p.contention_model = CONTENTION_MODELS[model]
        self.p.statistical_step = shared.get("statistical_step", 30_000_000_000)
        check_rc(alt_emu_check_shared(&self.p), "the emulator engine",
                 "shared-air parameters rejected by the C engine (a validation gap: please report)")
        n_groups = len(group_start) - 1
        if n_groups < 0:
            raise ParameterError("group_start needs at least one entry")
        self.keep.extend([order, group_start, han_channel, bridge_channel])
        self.order = <const uint64_t *>array_data(order, "u8", self.n, "order", False)
        self.group_start = <const uint64_t *>array_data(group_start, "u8", n_groups + 1, "group_start", False)
        self.han_channel = <const uint32_t *>array_data(han_channel, "u4", self.n, "han_channel", False)
        self.bridge_channel = <const uint32_t *>array_data(bridge_channel, "u4", self.n, "bridge_channel", False)
        if unit_start is not None:
            self.keep.append(unit_start)
            self.p.unit_start = <const int64_t *>array_data(unit_start, "i8", self.n, "unit_start", False)
        if (held_until is None) != (held_start is None):
            raise ParameterError("held_until and held_start go together")
        if held_until is not None:
            self.keep.extend([held_until, held_start])
            self.p.held_start = <const uint64_t *>array_data(held_start, "u8", n_groups + 1, "held_start", False)
            self.p.held_until = <const int64_t *>array_data(held_until, "i8", len(held_until), "held_until",
                                                            False)
        self.n_groups = n_groups
        self.buildings = True

    def contention_table(self, unsigned int max_installations, int n_threads):
        """Statistical contention's table (csrc/emu.h alt_emu_contention_calibrate) for buildings of up to
        max_installations, measured with these parameters (set_buildings first): per link ("han", "bridge") the
        arrays first, delay (ns) and attempts indexed by contention level, and repeat (probabilities) by level
        and run length (ALT_EMU_RUN_BINS columns: after runs of 1, 2, ... contention failures)."""
        if not self.buildings:
            raise ParameterError("the contention table needs the shared-air parameters (set_buildings)")
        cdef alt_emu_contention t
        cdef int rc, l
        with nogil:
            rc = alt_emu_contention_calibrate(&self.p, max_installations, n_threads, &t)
        check_rc(rc, "the contention calibration", "parameters rejected by the C engine")
        cdef uint32_t k
        cdef int r
        table = {}
        try:
            for l, name in enumerate(LINKS):
                first = np.empty(t.n_levels, dtype=np.float64)
                repeat = np.empty((t.n_levels, ALT_EMU_RUN_BINS), dtype=np.float64)
                delay = np.empty(t.n_levels, dtype=np.int64)
                attempts = np.empty(t.n_levels, dtype=np.uint64)
                for k in range(t.n_levels):
                    first[k] = t.first[l][k]
                    for r in range(ALT_EMU_RUN_BINS):
                        repeat[k, r] = t.repeat[l][k * ALT_EMU_RUN_BINS + r]
                    delay[k] = t.delay[l][k]
                    attempts[k] = t.attempts[l][k]
                table[name] = {"first": first, "repeat": repeat, "delay": delay, "attempts": attempts}
        finally:
            alt_emu_contention_free(&t)
        return table

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

    def __dealloc__(self):
        alt_emu_lost_log_free(self.lost)

    def record_lost(self):
        """Has execute() log where each device lost exchanges, for the byte pass (lost_runs())."""
        if self.lost == NULL:
            self.lost = alt_emu_lost_log_new(2 * self.n)
            if self.lost == NULL:
                raise MemoryError()
        self.out.lost = self.lost

    def lost_runs(self):
        """After execute() with record_lost(): (first, runs), device row's (slot, count) runs being
        runs[2 * first[row]:2 * first[row + 1]] (csrc/emu_lost.h); the log is released."""
        if self.lost == NULL:
            raise ParameterError("lost_runs() needs record_lost() before execute()")
        cdef uint64_t total = alt_emu_lost_log_runs(self.lost)
        first = np.empty(2 * self.n + 1, dtype=np.uint64)
        runs = np.empty(max(2 * total, 2), dtype=np.uint32)
        cdef uint64_t[::1] f = first
        cdef uint32_t[::1] r = runs
        cdef int rc
        with nogil:
            rc = alt_emu_lost_log_finish(self.lost, &f[0], &r[0])
        alt_emu_lost_log_free(self.lost)
        self.lost = NULL
        self.out.lost = NULL
        check_rc(rc, "the emulator engine's log of lost exchanges")
        return first, runs[:2 * total]

    def execute(self, int n_threads):
        """Runs the whole emulation without the GIL; KeyboardInterrupt if stop() ended it early."""
        cdef int status
        if n_threads < 1:
            raise ParameterError(f"n_threads must be >= 1, got {n_threads}")
        with nogil:
            if self.buildings:
                status = alt_emu_run_buildings(&self.p, self.keys, self.sides, self.n, self.order,
                                               self.group_start, self.n_groups, self.han_channel,
                                               self.bridge_channel, self.han_per, self.bridge_per, &self.out,
                                               n_threads, self.ctl)
            elif self.keys != NULL:
                status = alt_emu_run_units(&self.p, self.keys, self.sides, self.n, self.han_per,
                                           self.bridge_per, &self.out, n_threads, self.ctl)
            else:
                status = alt_emu_run(&self.p, self.first, self.n, self.han_per, self.bridge_per, &self.out,
                                     n_threads, self.ctl)
        check_rc(status, "the emulator engine")


cdef void *column(dict out, str name, Py_ssize_t n) except? NULL:
    """The caller's output column name, n rows of the dtype DEVICE_COLUMNS or INSTALLATION_COLUMNS gives it."""
    dtype = DEVICE_COLUMNS[name] if name in DEVICE_COLUMNS else INSTALLATION_COLUMNS[name]
    return array_data(out[name], dtype, n, f"output {name}", True)
