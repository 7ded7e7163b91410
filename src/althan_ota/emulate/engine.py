"""``emulate()``: validate, translate the parameters to the C engine's units, run it off the GIL."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Callable

import numpy as np

from ..errors import ParameterError
from . import bytes as bytes_fidelity
from . import airtime
from . import trace as tracing
from .buildings import NO_BUILDING, ChannelAssignment, assign_channels, round_robin
from .params import EmulationParams
from .result import EmulationResult

FIDELITIES = ("timing", "bytes")
# installations in one building (one event loop, one thread, ~15 KB of state each): the largest blocks of flats
# hold a few thousand; a column with one value for the whole fleet would make one huge loop
MAX_BUILDING = 20_000
_NS = 1_000_000_000


def _ns(seconds: float) -> int:
    return round(seconds * _NS)


def _link_cfg(link, ack_ns: int, duty_cycle: float, times: dict[str, airtime.FrameTimes], name: str) -> dict:
    def hop(on_air_ns: int) -> tuple[int, int]:
        return on_air_ns, airtime.dc_span_ns(on_air_ns, duty_cycle)
    burst = link.burst
    return {
        "tx_delay": _ns(link.tx_delay_s), "turnaround": _ns(link.turnaround_s),
        "ack_timeout": _ns(link.ack_timeout_s), "ack": hop(ack_ns), "max_retries": link.max_retries,
        "per": float(link.per), "per_concentration": float(link.per_concentration or 0.0),
        "per_bad": float(burst.per_bad) if burst else 0.0,
        "mean_good_len": float(burst.mean_good_len) if burst else 0.0,
        "mean_bad_len": float(burst.mean_bad_len) if burst else 0.0,
        "frames": {kind: (hop(getattr(t, f"{name}_request")), hop(getattr(t, f"{name}_response")))
                   for kind, t in times.items()},
    }


def engine_config(image_size: int, params: EmulationParams, seed: int) -> dict:
    """The C engine's parameters (ns and plain numbers), from validated Python parameters."""
    times = airtime.kinds(params.han, params.bridge, image_size, params.ota.block_size)
    out = params.outages
    ota = params.ota
    return {
        "han": _link_cfg(params.han, airtime.han_ack_ns(params.han), 1.0, times, "han"),
        "bridge": _link_cfg(params.bridge, airtime.bridge_ack_ns(params.bridge), params.bridge.duty_cycle, times,
                            "bridge"),
        "image_size": image_size, "block_size": ota.block_size,
        "min_block_period": _ns(ota.min_block_period_s), "ch_response_delay": _ns(ota.ch_response_delay_s),
        "response_timeout": _ns(ota.response_timeout_s), "max_consecutive_failures": ota.max_consecutive_failures,
        "ch_ready_delay": _ns(ota.ch_ready_delay_s), "wait_for_data_delay": _ns(ota.wait_for_data_delay_s),
        "order": ota.pair_order,
        "wan_failure_prob": float(params.wan_failure_prob), "wan_delay_median_s": float(params.wan_delay_median_s),
        "wan_delay_sigma": float(params.wan_delay_sigma),
        "activation_failure_prob": float(params.activation_failure_prob),
        "activation_time": -1 if params.activation_time_s is None else _ns(params.activation_time_s),
        "readback_delay": _ns(params.readback_delay_s), "deadline": _ns(params.deadline_s),
        "mean_up_s": [float(out.ch_mean_up_s), float(out.hub_mean_up_s), float(out.meter_mean_up_s)],
        "mean_down_s": [float(out.ch_mean_down_s), float(out.hub_mean_down_s), float(out.meter_mean_down_s)],
        "scheduled": [np.array([_ns(x) for w in windows for x in w], dtype=np.int64)
                      for windows in (out.ch_windows, out.hub_windows, out.meter_windows)],
        "seed": seed,
    }


def shared_config(params: EmulationParams) -> dict:
    """The per-building engine's channel access per link (ns) and capture figures."""
    csma = params.han.csma
    lbt = params.bridge.lbt
    none = {"min_be": 0, "max_be": 0, "max_backoffs": 0, "max_slots": 0, "max_deferrals": 0}
    han = {**none, "access": "csma_802154", "cca": _ns(csma.cca_s), "cca_to_tx": _ns(csma.cca_to_tx_s),
           "unit": _ns(csma.unit_backoff_s), "min_be": csma.min_be, "max_be": csma.max_be,
           "max_backoffs": csma.max_backoffs}
    if lbt is None:     # no listening: frames go on air tx_delay after they are ready (pure ALOHA)
        bridge = {**none, "access": "aloha", "cca": 0, "cca_to_tx": 0, "unit": 0}
    else:
        bridge = {**none, "access": "lbt", "cca": _ns(lbt.listen_s), "cca_to_tx": _ns(lbt.listen_to_tx_s),
                  "unit": _ns(lbt.slot_s), "max_slots": lbt.max_slots, "max_deferrals": lbt.max_deferrals}
    return {"han": han, "bridge": bridge,
            "capture_margin_db": float("nan") if params.capture_margin_db is None
            else float(params.capture_margin_db),
            "rssi_sigma_db": float(params.rssi_sigma_db),
            "building_cap": params.building_cap or 0,
            "model": params.contention_model, "statistical_step": _ns(params.statistical_step_s)}


def building_groups(assignment: ChannelAssignment, keys: np.ndarray) -> dict:
    """The per-building engine's grouping: units sorted by (building, key) — so neither the input order nor
    the building codes change a result — with each group's offsets, and each unit's channel numbered
    0, 1, ... within its building. An installation without a building is a group of its own."""
    n = keys.shape[0]
    group = assignment.building.astype(np.int64, copy=True)
    alone = group == NO_BUILDING
    group[alone] = (group.max(initial=-1) + 1) + np.arange(int(alone.sum()), dtype=np.int64)
    order = np.lexsort((keys, group))
    sorted_group = group[order]
    bounds = np.flatnonzero(sorted_group[1:] != sorted_group[:-1]) + 1 if n else np.zeros(0, np.int64)
    group_start = np.r_[0, bounds, n].astype(np.uint64) if n else np.zeros(1, np.uint64)

    def local(channel: np.ndarray) -> np.ndarray:
        if not channel.any():           # one channel per building (the default): no sort needed
            return np.zeros(n, dtype=np.uint32)
        o = np.lexsort((channel, group))
        g, c = group[o], channel[o]
        new_group = np.r_[True, g[1:] != g[:-1]] if n else np.zeros(0, bool)
        new_channel = new_group | (np.r_[True, c[1:] != c[:-1]] if n else np.zeros(0, bool))
        rank = np.cumsum(new_channel) - 1
        first = np.maximum.accumulate(np.where(new_group, np.arange(n), 0)) if n else np.zeros(0, np.int64)
        out = np.empty(n, dtype=np.uint32)
        out[o] = rank - rank[first]
        return out

    return {"order": order.astype(np.uint64), "group_start": group_start,
            "han_channel": local(assignment.han_channel), "bridge_channel": local(assignment.bridge_channel)}


def _assignment(buildings, fleet, n: int, params: EmulationParams) -> ChannelAssignment | None:
    """Who shares the air, from ``buildings`` or the fleet mapping's ``building_id`` (and ``channel``)."""
    in_fleet = isinstance(fleet, Mapping) and fleet.get("building_id") is not None
    if buildings is not None and in_fleet:
        raise ParameterError("give building ids either in the fleet mapping (building_id) or as buildings=, "
                             "not both")
    if buildings is None and in_fleet:
        buildings = assign_channels(fleet["building_id"], params, fleet.get("channel"))
    elif buildings is None and isinstance(fleet, Mapping) and fleet.get("channel") is not None:
        raise ParameterError("a fleet channel column needs building_id beside it")
    if buildings is None:
        if params.contention:
            raise ParameterError("contention=True needs the per-building engine's input, who shares the air: pass "
                                 "buildings= (building ids or integer codes, one per installation, or a "
                                 "ChannelAssignment from assign_channels) or a fleet mapping with building_id")
        return None
    if not params.contention:
        raise ParameterError("buildings only matter with shared air: set EmulationParams(contention=True)")
    if isinstance(buildings, np.ndarray) and buildings.dtype.kind in "iu":
        codes = buildings.astype(np.int64)
        if codes.shape != (n,):
            raise ParameterError(f"buildings has {codes.shape[0] if codes.ndim else 0} installations, the fleet {n}")
        codes = np.where(codes < 0, NO_BUILDING, codes)
        buildings = ChannelAssignment(codes, round_robin(codes, params.han_channels),
                                      round_robin(codes, params.bridge_channels))
    elif not isinstance(buildings, ChannelAssignment):
        buildings = assign_channels(buildings, params)
    if buildings.building.shape != (n,) or buildings.han_channel.shape != (n,) or \
            buildings.bridge_channel.shape != (n,):
        raise ParameterError(f"buildings has {buildings.building.shape[0]} installations, the fleet {n}")
    return buildings


def _per_array(fleet: Mapping, name: str, n: int | None) -> np.ndarray | None:
    if name not in fleet or fleet[name] is None:
        return None
    arr = np.ascontiguousarray(fleet[name], dtype=np.float64)
    if arr.ndim != 1:
        raise ParameterError(f"{name} must be one-dimensional (one PER per installation), got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ParameterError(f"{name} has {arr.shape[0]} installations, the other array {n}")
    if not np.all((arr >= 0.0) & (arr < 1.0)):
        bad = int(np.flatnonzero(~((arr >= 0.0) & (arr < 1.0)))[0])
        raise ParameterError(f"{name}[{bad}] = {arr[bad]!r}: a PER must be in [0, 1)")
    return arr


def _fleet(fleet) -> tuple[int, np.ndarray | None, np.ndarray | None]:
    if isinstance(fleet, (int, np.integer)) and not isinstance(fleet, bool):
        if fleet < 0:
            raise ParameterError(f"n_installations must be >= 0, got {fleet}")
        return int(fleet), None, None
    if isinstance(fleet, Mapping):
        unknown = set(fleet) - {"han_per", "bridge_per", "building_id", "channel"}
        if unknown:
            raise ParameterError(f"unknown per-installation arrays {sorted(unknown)}; known: han_per, bridge_per, "
                                 f"building_id, channel")
        han = _per_array(fleet, "han_per", None)
        bridge = _per_array(fleet, "bridge_per", None if han is None else han.shape[0])
        if han is None and bridge is None:
            if fleet.get("building_id") is not None:
                return len(fleet["building_id"]), None, None
            raise ParameterError("give han_per and/or bridge_per arrays (or building_id), or a number of "
                                 "installations")
        return (han if han is not None else bridge).shape[0], han, bridge
    raise ParameterError(f"fleet must be a number of installations or a mapping of per-installation arrays "
                         f"(han_per, bridge_per, building_id, channel), got {type(fleet).__name__}")


def emulate(fleet, image_size: int | None = None, params: EmulationParams | None = None, seed: int = 0,
            fidelity: str = "timing", n_threads: int | None = None,
            progress: Callable[[int, int], object] | None = None,
            first_installation: int = 0, installation_keys=None, sides=None, image=None,
            byte_params: "bytes_fidelity.ByteParams | None" = None, trace: bool = False,
            buildings=None, unit_start_ns=None, held_places=None) -> EmulationResult:
    """Emulate an OTA rollout of an ``image_size``-byte image to a fleet of P2P Alt HAN installations.

    ``fleet`` is a number of installations, or a mapping with per-installation ``han_per`` and/or
    ``bridge_per`` arrays (PER of one link-layer attempt; missing links use ``params``) and, for shared air,
    ``building_id`` (text per installation, null or blank: alone) and optionally ``channel``. Installations are
    numbered from ``first_installation`` (or keyed by ``installation_keys``, one uint64 per installation, when
    a campaign emulates a scattered set); ``sides`` (uint8 per installation: 1 hub-side, 2 meter-side, 3 both)
    chooses which bridges download, the others reporting "not_requested". Emulating installations 0..999 then 1000..1999 gives exactly the
    rows of one run over 0..1999, and results never depend on ``n_threads`` (default: every core).
    ``progress(done, total)`` is called from the calling thread about ten times a second; if it raises, the
    run stops and the exception propagates. Ctrl-C stops the run too (KeyboardInterrupt).

    ``fidelity="bytes"`` takes the real ``image`` (bytes or any buffer; ``image_size`` is then its length) and
    optional ``byte_params`` (:class:`~althan_ota.emulate.bytes.ByteParams`): after the timing run every block
    exchange travels as a real frame, and devices check the reassembled image's SHA-256 (see emulate/bytes.py).

    ``params.contention=True`` runs the per-building engine (csrc/emu.h, "Shared air"): installations of one
    building share their HAN and bridge channels. Who shares comes from the fleet mapping's ``building_id``
    (and ``channel``) or from ``buildings`` (building ids, one per installation, or a
    :class:`~althan_ota.emulate.buildings.ChannelAssignment`). Results depend only on the seed: not on
    ``n_threads``, nor on the order of the installations.

    ``unit_start_ns`` (shared air only): when each installation was requested, integer nanoseconds >= 0 on a
    clock common to the run (a campaign's request times). Each installation still lives on its own clock, 0 at
    its request, and its results are given on it; the start only places its downloads among the others of its
    building (who overlaps whom, and who gets a place first under ``building_cap``). An installation that
    overlaps no other gets exactly the results it gets alone.

    ``held_places`` (shared air with ``building_cap``, integer ``buildings`` codes): places of buildings that
    installations outside this run still hold (a campaign's earlier waves and attempts), as a pair of arrays
    (building code, until in ns on the ``unit_start_ns`` clock). Each counts against the building's cap until
    then, and then frees for the first installation waiting; at most ``building_cap`` per building. Places of
    buildings with no installation in the run are ignored.

    ``trace=True`` (at most MAX_TRACED_INSTALLATIONS installations) also records every exchange of every device
    (``result.trace``, an :class:`~althan_ota.emulate.trace.ExchangeTrace`); the results are the same as without.
    """
    if fidelity not in FIDELITIES:
        raise ParameterError(f"fidelity must be one of {FIDELITIES}, got {fidelity!r}")
    if fidelity == "bytes":
        image_size = _bytes_image_size(image, image_size, params, byte_params)
    elif image is not None or byte_params is not None:
        raise ParameterError("image and byte_params are for fidelity='bytes'")
    params = EmulationParams() if params is None else params
    if not isinstance(params, EmulationParams):
        raise ParameterError(f"params must be an EmulationParams, got {type(params).__name__}")
    params.validate(airtime.MAX_BLOCK)
    if not isinstance(image_size, (int, np.integer)) or isinstance(image_size, bool) or not \
            0 < image_size < 2**32:
        raise ParameterError(f"image_size must be a positive number of bytes below 4 GiB, got {image_size!r}")
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ParameterError(f"seed must be an integer in [0, 2**64), got {seed!r}")
    if not isinstance(first_installation, (int, np.integer)) or not 0 <= first_installation < 2**63:
        raise ParameterError(f"first_installation must be an integer >= 0, got {first_installation!r}")
    if n_threads is None:
        n_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not isinstance(n_threads, (int, np.integer)) or not 1 <= n_threads <= 1024:
        raise ParameterError(f"n_threads must be an integer in [1, 1024], got {n_threads!r}")
    if not isinstance(trace, bool):
        raise ParameterError(f"trace must be True or False, got {trace!r}")
    n, han_per, bridge_per = _fleet(fleet)
    assignment = _assignment(buildings, fleet, n, params)
    if trace and n > tracing.MAX_TRACED_INSTALLATIONS:
        raise ParameterError(f"trace=True is for a few installations (at most "
                             f"{tracing.MAX_TRACED_INSTALLATIONS}), got {n}")
    blocks = -(-int(image_size) // params.ota.block_size)
    if blocks + 1 > 2**31:
        raise ParameterError(f"image_size / block_size gives {blocks} blocks: too many to count")

    from .._native import _emu

    cfg = engine_config(int(image_size), params, int(seed))
    keys = _unit_array(installation_keys, n, np.uint64, "installation_keys")
    side_mask = _unit_array(sides, n, np.uint8, "sides")
    if side_mask is not None and not np.all((side_mask >= 1) & (side_mask <= 3)):
        raise ParameterError("sides must be 1 (hub-side), 2 (meter-side) or 3 (both) for every installation")
    if (side_mask is not None or assignment is not None) and keys is None:
        keys = np.arange(first_installation, first_installation + n, dtype=np.uint64)
    if assignment is not None and installation_keys is not None and np.unique(keys).shape[0] != n:
        # a building's canonical order is by key: equal keys would leave ties to the input order
        raise ParameterError("installation_keys must be unique with shared air (contention=True)")
    groups = building_groups(assignment, keys) if assignment is not None else None
    unit_start = _unit_start(unit_start_ns, n, assignment is not None)
    if groups is not None and n:
        largest = int(np.diff(groups["group_start"].astype(np.int64)).max())
        if largest > MAX_BUILDING:
            raise ParameterError(f"a building of {largest:,} installations: the per-building engine steps a "
                                 f"building's downloads together and takes at most {MAX_BUILDING:,} (is "
                                 f"building_id filled with one value for the whole fleet?)")
    held = _held_places(held_places, assignment, groups, params)
    shared = shared_config(params) if assignment is not None else None
    phases = 2 if fidelity == "bytes" else 1

    def timing_run(capacity):
        out = {name: np.empty(2 * n, dtype=dt) for name, dt in _emu.DEVICE_COLUMNS.items()}
        out.update({name: np.empty(n, dtype=dt) for name, dt in _emu.INSTALLATION_COLUMNS.items()})
        run = _emu.Run(cfg, int(first_installation), n, han_per, bridge_per, out, keys, side_mask)
        if groups is not None and n:        # no installations: no air to share
            run.set_buildings(shared, groups["order"], groups["group_start"], groups["han_channel"],
                              groups["bridge_channel"], unit_start, *held)
        trace_buffers = None
        if capacity is not None:
            trace_buffers = tracing.buffers(capacity)
            run.set_trace(*trace_buffers)
        if fidelity == "bytes":     # the byte pass puts each corrupted frame where its exchange was lost
            run.record_lost()
        _execute(run, int(n_threads), n, _phase(progress, 0, phases))
        return out, trace_buffers, run.lost_runs() if fidelity == "bytes" else None

    out, trace_buffers, lost = timing_run(tracing.initial_capacity(blocks, 2 * n) if trace and n else None)
    if trace_buffers is not None and np.any(trace_buffers[3] > trace_buffers[2]):
        # some device made more exchanges than there was room for: the run is deterministic, so run it again
        # with room for exactly what each device made
        out, trace_buffers, lost = timing_run(np.maximum(trace_buffers[2], trace_buffers[3]))
    byte_pass = None
    if fidelity == "bytes":
        units = keys if keys is not None else np.arange(first_installation, first_installation + n, dtype=np.uint64)
        byte_pass = bytes_fidelity.make_pass(out, units, bytes_fidelity.image_bytes(image), params.ota, int(seed),
                                             byte_params or bytes_fidelity.ByteParams(), lost)
        _execute(byte_pass, int(n_threads), n, _phase(progress, 1, phases))
        bytes_fidelity.apply_hash_check(out)
    result = EmulationResult(out, first_installation=int(first_installation), image_size=int(image_size),
                             params=params, seed=int(seed), installation_keys=keys)
    result.byte_pass = byte_pass
    if trace:
        records, first, _, count = trace_buffers if trace_buffers is not None else \
            (np.zeros(0, dtype=_emu.RECORD_DTYPE), np.zeros(0, dtype=np.uint64), None, np.zeros(0, dtype=np.uint64))
        result.trace = tracing.ExchangeTrace(records, first, count)
    return result


def contention_table(max_installations: int, image_size: int, params: EmulationParams | None = None,
                     seed: int = 0, n_threads: int | None = None) -> dict:
    """The table statistical contention uses (csrc/emu.h "Statistical contention") for buildings of up to
    ``max_installations``, measured by the stepped engine with these parameters: per link ("han", "bridge") the
    arrays ``first`` (probability that a contended attempt fails for contention after an attempt that did
    not), ``delay_s`` (mean ready-to-on-air) and ``attempts`` (contended attempts measured), indexed by
    contention level (the other installations' downloads active on the channel), and ``repeat``, by level and
    run length: ``repeat[k, n - 1]`` is the probability of failing after a run of n contention failures (the
    last column serves longer runs too).
    ``emulate`` makes the same table itself (for twice its largest building, or its cap: the calibration's
    buildings download one side each)."""
    params = EmulationParams(contention=True) if params is None else params
    if not isinstance(params, EmulationParams):
        raise ParameterError(f"params must be an EmulationParams, got {type(params).__name__}")
    params.validate(airtime.MAX_BLOCK)
    if not isinstance(max_installations, (int, np.integer)) or not 1 <= max_installations <= 100_000:
        raise ParameterError(f"max_installations must be 1 .. 100000, got {max_installations!r}")
    from .._native import _emu

    n = 1
    out = {name: np.empty(2 * n, dtype=dt) for name, dt in _emu.DEVICE_COLUMNS.items()}
    out.update({name: np.empty(n, dtype=dt) for name, dt in _emu.INSTALLATION_COLUMNS.items()})
    run = _emu.Run(engine_config(int(image_size), params, int(seed)), 0, n, None, None, out,
                   np.zeros(1, np.uint64), None)
    run.set_buildings(shared_config(params), np.zeros(1, np.uint64), np.array([0, 1], np.uint64),
                      np.zeros(1, np.uint32), np.zeros(1, np.uint32))
    table = run.contention_table(int(max_installations), int(n_threads or os.cpu_count() or 1))
    for link in table.values():
        link["delay_s"] = link.pop("delay") * 1e-9
    return table


def _bytes_image_size(image, image_size, params, byte_params) -> int:
    if image is None:
        raise ParameterError("fidelity='bytes' needs the image itself: emulate(..., fidelity='bytes', image=data)")
    size = bytes_fidelity.image_bytes(image).nbytes
    if image_size is not None and image_size != size:
        raise ParameterError(f"image_size {image_size!r} differs from the image's {size} bytes (leave it None)")
    if byte_params is not None and not isinstance(byte_params, bytes_fidelity.ByteParams):
        raise ParameterError(f"byte_params must be a ByteParams, got {type(byte_params).__name__}")
    (byte_params or bytes_fidelity.ByteParams()).validate()
    return size


def _phase(progress, k: int, phases: int):
    """progress(done, total) over several passes of n installations each, as one count."""
    if progress is None or phases == 1:
        return progress
    return lambda done, n: progress(k * n + done, phases * n)


# the engine's ALT_EMU_MAX_UNIT_START (csrc/emu.h): about 73 years in ns
MAX_UNIT_START_NS = 2**61


def _unit_start(values, n: int, shared_air: bool) -> np.ndarray | None:
    if values is None:
        return None
    if not shared_air:
        raise ParameterError("unit_start_ns places installations among the others of their building: it needs "
                             "shared air (contention=True); alone, an installation's results do not depend on "
                             "when it starts")
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ParameterError(f"unit_start_ns must have one entry per installation ({n}), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ParameterError(f"unit_start_ns must be integer nanoseconds, got {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > MAX_UNIT_START_NS):
        bad = int(np.flatnonzero((arr < 0) | (arr > MAX_UNIT_START_NS))[0])
        raise ParameterError(f"unit_start_ns[{bad}] = {arr[bad]}: a start is in [0, 2**61] ns")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _held_places(held_places, assignment: ChannelAssignment | None, groups: dict | None,
                 params: EmulationParams) -> tuple:
    """(held_until, held_start) for the engine from ``held_places`` (see emulate), or (None, None)."""
    if held_places is None:
        return None, None
    if assignment is None or params.building_cap is None:
        raise ParameterError("held_places are places of a building under a cap: they need shared air "
                             "(contention=True) and building_cap")
    try:
        building, until = (np.asarray(a) for a in held_places)
    except (TypeError, ValueError):
        raise ParameterError("held_places must be a pair of arrays: (building codes, until_ns)") from None
    if building.ndim != 1 or building.shape != until.shape or not np.issubdtype(building.dtype, np.integer) \
            or not np.issubdtype(until.dtype, np.integer):
        raise ParameterError("held_places must be a pair of equal-length integer arrays: (building codes, "
                             "until_ns)")
    if until.size and (until.min() < 0 or until.max() > MAX_UNIT_START_NS):
        raise ParameterError(f"held_places: until_ns must be in [0, 2**61] ns, got {until.min()} .. {until.max()}")
    order, group_start = groups["order"], groups["group_start"]
    n_groups = group_start.shape[0] - 1
    if not n_groups:
        return None, None
    group_code = assignment.building[order[group_start[:-1].astype(np.int64)].astype(np.int64)]
    real = group_code != NO_BUILDING            # buildings' groups come first, in ascending code
    codes = group_code[real]
    g = np.searchsorted(codes, building)
    found = (building != NO_BUILDING) & (g < codes.shape[0])
    found[found] = codes[g[found]] == building[found]
    g, until = g[found], until[found].astype(np.int64)
    counts = np.bincount(g, minlength=n_groups)
    if counts.size and counts.max() > params.building_cap:
        worst = int(np.argmax(counts))
        raise ParameterError(f"held_places: building {int(group_code[worst])} holds {int(counts[worst])} places, "
                             f"more than building_cap ({params.building_cap})")
    by_group = np.argsort(g, kind="stable")
    held_start = np.zeros(n_groups + 1, dtype=np.uint64)
    held_start[1:] = np.cumsum(counts)
    return np.ascontiguousarray(until[by_group]), held_start


def _unit_array(values, n: int, dtype, name: str) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ParameterError(f"{name} must have one entry per installation ({n}), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer) or (arr.size and arr.min() < 0):
        raise ParameterError(f"{name} must be non-negative integers")
    return np.ascontiguousarray(arr, dtype=dtype)


def _execute(run, n_threads: int, n: int, progress) -> None:
    """Runs the engine in a worker thread (the GIL is released inside) so this thread can report progress
    and turn Ctrl-C or a failing callback into a clean stop. What the engine raises (KeyboardInterrupt once
    stopped, the errors.py class of any other C status) is raised here."""
    failure: list[BaseException] = []

    def work() -> None:
        try:
            run.execute(n_threads)
        except BaseException as exc:  # handed to the waiting thread, which raises it
            failure.append(exc)

    worker = threading.Thread(target=work, daemon=True, name="althan-ota-emulate")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
            if progress is not None:
                progress(int(run.done()), n)
    except BaseException:
        run.stop()
        worker.join()
        raise
    if failure:
        raise failure[0]
