# cython: language_level=3, boundscheck=False, wraparound=False
"""Thin wrapper of the shared-channel event loop (csrc/emu_channel.h): fill the struct, run without the GIL."""

from libc.stdint cimport int64_t

from ._buffers cimport array_data
from ._status cimport check_rc
from .emu_channel cimport (ALT_EMU_ALOHA, ALT_EMU_CSMA_802154, ALT_EMU_LBT, ALT_EMU_NONPERSISTENT,
                           alt_emu_channel_counts, alt_emu_channel_params, alt_emu_channel_run)

import numpy as np

ACCESS = {"aloha": ALT_EMU_ALOHA, "nonpersistent": ALT_EMU_NONPERSISTENT, "csma_802154": ALT_EMU_CSMA_802154,
          "lbt": ALT_EMU_LBT}
COUNTS = ("offered", "assessments", "busy_assessments", "sent", "delivered", "collided", "access_failures",
          "busy_ns", "access_delay_ns")


def run_channel(dict cfg, power_db, station_airtime, access_delays):
    """Runs one channel. cfg holds alt_emu_channel_params' fields (ns and plain numbers; access by name);
    power_db: float64 per station or None; station_airtime: int64 per station (written); access_delays: int64
    array (written, up to its length). Returns (counts dict, number of access delays)."""
    cdef alt_emu_channel_params p
    p.access = ACCESS[cfg["access"]]
    p.cca = cfg["cca"]
    p.cca_to_tx = cfg["cca_to_tx"]
    p.unit = cfg["unit"]
    p.min_be = cfg["min_be"]
    p.max_be = cfg["max_be"]
    p.max_backoffs = cfg["max_backoffs"]
    p.max_slots = cfg["max_slots"]
    p.max_deferrals = cfg["max_deferrals"]
    p.n_stations = cfg["n_stations"]
    p.airtime = cfg["airtime"]
    p.dc_span = cfg["dc_span"]
    p.mean_interarrival = cfg["mean_interarrival"]
    p.duration = cfg["duration"]
    p.capture_margin_db = cfg["capture_margin_db"]
    p.seed = cfg["seed"]
    p.key = cfg["key"]
    cdef Py_ssize_t n = p.n_stations
    p.power_db = NULL if power_db is None else <const double *>array_data(power_db, "f8", n, "power_db", False)
    cdef int64_t *air = <int64_t *>array_data(station_airtime, "i8", n, "station_airtime", True)
    cdef Py_ssize_t capacity = len(access_delays)
    cdef int64_t *delays = <int64_t *>array_data(access_delays, "i8", capacity, "access_delays", True)
    cdef alt_emu_channel_counts c
    cdef size_t n_delays = 0
    cdef int rc
    with nogil:
        rc = alt_emu_channel_run(&p, &c, air, delays, <size_t>capacity, &n_delays)
    check_rc(rc, "shared channel")
    counts = {"offered": c.offered, "assessments": c.assessments, "busy_assessments": c.busy_assessments,
              "sent": c.sent, "delivered": c.delivered, "collided": c.collided,
              "access_failures": c.access_failures, "busy_ns": c.busy_ns, "access_delay_ns": c.access_delay_ns}
    return counts, n_delays
