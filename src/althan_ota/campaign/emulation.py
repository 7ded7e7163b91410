"""The emulator adaptor: one wave of a campaign, every attempt of every device, as state events.

A unit is an installation (hub-side and meter-side bridge) or a plain PPMID (emulated as a bridge on the HAN,
in the hub-side slot). Each attempt of a wave is one emulator call over the units with a device still to
try, so a wave costs a few engine runs, never a Python loop per device.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..emulate import EmulationParams, emulate
from ..fleet import Fleet
from ..stage_profile import stage
from .outcomes import FAILED, emulator_rows, outcome
from .plan import CampaignPlan, WavePlan
from .store_tables import DEVICES, EVENTS, TRANSFERS
from ..errors import ParameterError
from .building_places import NO_BUILDING, BuildingPlaces
from .slots import RequestBook, retry_times
from .states import State

# the engine's stage times -> the stage a device reached at that time
_STAGES = (("t_image", "image_at_ch"), ("t_download_start", "downloading"), ("t_download_end", "downloaded"),
           ("t_activation", "activated"))
_TRANSFER_SUMS = ("exchanges", "exchange_retries", "airtime_han", "airtime_bridge", "dc_wait")


def dataclass_from_dict(cls, data: dict):
    """Rebuild nested frozen dataclasses (EmulationParams and its parts) from their plain-dict form."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value, hint = data[f.name], hints[f.name]
        inner = [a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)]
        target_cls = hint if dataclasses.is_dataclass(hint) else (inner[0] if inner else None)
        if isinstance(value, dict) and target_cls is not None:
            value = dataclass_from_dict(target_cls, value)
        elif isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        kwargs[f.name] = value
    return cls(**kwargs)


def attempt_seed(seed: int, attempt: int) -> int:
    """Independent randomness per attempt, derived from the campaign seed."""
    return int(np.random.SeedSequence([seed, 0xA77, attempt]).generate_state(1, np.uint64)[0])


def wave_params(plan: CampaignPlan, emulation: EmulationParams) -> EmulationParams:
    ota = dataclasses.replace(emulation.ota, pair_order=plan.pair_order,
                              ch_concurrency=max(2, emulation.ota.ch_concurrency)
                              if plan.pair_order == "concurrent" else 1)
    # the engine activates at once; a fleet-wide instant is applied per unit afterwards (_activate_at)
    return dataclasses.replace(emulation, ota=ota, deadline_s=plan.device_timeout_s, activation_time_s=None)


@dataclass
class WaveOutcome:
    target_version: int
    rows: np.ndarray                 # fleet row per device slot (n_units, 2); -1: no device there
    state: np.ndarray                # final State per slot
    reason: np.ndarray
    attempts: np.ndarray
    t_final: np.ndarray
    sums: dict[str, np.ndarray]      # transfer costs per slot, over attempts
    download_s: np.ndarray
    events: list[tuple[np.ndarray, np.ndarray, int, np.ndarray, int]] = field(default_factory=list)
    # each event batch: (slot indices, times, state, reasons, attempt)

    @property
    def present(self) -> np.ndarray:
        return self.rows >= 0

    @property
    def devices(self) -> int:
        return int(self.present.sum())

    @property
    def failed(self) -> int:
        return int(np.isin(self.state[self.present], [int(s) for s in FAILED]).sum())

    @property
    def failure_rate(self) -> float:
        return self.failed / self.devices if self.devices else 0.0

    def settle_time(self, fraction: float, default: float) -> float:
        times = self.t_final[self.present]
        return float(np.quantile(times, fraction)) if len(times) else default

    def tables(self, campaign_id: str, fleet: Fleet, wave: int) -> tuple[pa.Table, pa.Table, pa.Table]:
        with stage(f"wave {wave} tables"):
            return self._tables(campaign_id, fleet, wave)

    def _tables(self, campaign_id: str, fleet: Fleet, wave: int) -> tuple[pa.Table, pa.Table, pa.Table]:
        slots = np.flatnonzero(self.present.ravel())
        rows = self.rows.ravel()[slots]
        take = pa.array(rows)
        n = len(rows)
        cid = _repeated(campaign_id, n)
        device_id = fleet.table["device_id"].take(take)
        before = fleet.table["firmware_version"].take(take).to_numpy()
        state = self.state.ravel()[slots]
        after = np.where(state == State.VERIFIED, np.uint32(self.target_version), before).astype(np.uint32)
        devices = pa.table({
            "campaign_id": cid, "device_id": device_id, "installation_id": fleet.table["installation_id"].take(take),
            "ppmid_variant": fleet.table["ppmid_variant"].take(take), "wave": np.full(n, wave, np.int32),
            "state": state.astype(np.uint8), "reason": self.reason.ravel()[slots].astype(np.uint8),
            "attempts": self.attempts.ravel()[slots].astype(np.int32), "t": self.t_final.ravel()[slots],
            "version_before": before.astype(np.uint32), "version_after": after}, schema=DEVICES)
        transfers = pa.table({
            "campaign_id": cid, "device_id": device_id,
            "exchanges": self.sums["exchanges"].ravel()[slots].astype(np.int64),
            "retries": self.sums["exchange_retries"].ravel()[slots].astype(np.int64),
            "han_airtime_s": self.sums["airtime_han"].ravel()[slots],
            "bridge_airtime_s": self.sums["airtime_bridge"].ravel()[slots],
            "duty_cycle_wait_s": self.sums["dc_wait"].ravel()[slots],
            "download_s": self.download_s.ravel()[slots]}, schema=TRANSFERS)
        return devices, self._event_table(campaign_id, fleet, wave), transfers

    def _event_table(self, campaign_id: str, fleet: Fleet, wave: int) -> pa.Table:
        if not self.events:
            return EVENTS.empty_table()
        slot = np.concatenate([e[0] for e in self.events])
        t = np.concatenate([e[1] for e in self.events])
        state = np.concatenate([np.full(len(e[0]), int(e[2]), np.uint8) for e in self.events])
        reason = np.concatenate([np.broadcast_to(e[3], len(e[0])).astype(np.uint8) for e in self.events])
        attempt = np.concatenate([np.full(len(e[0]), e[4], np.int32) for e in self.events])
        # by device slot, then time, then state; Arrow's stable multi-column sort gives numpy's
        # lexsort((state, t, slot)) order, ties in input order, in a third of its time (millions of
        # events in a national wave)
        order = pc.sort_indices(pa.table({"slot": slot, "t": t, "state": state}),
                                sort_keys=[("slot", "ascending"), ("t", "ascending"), ("state", "ascending")]).to_numpy()
        rows = self.rows.ravel()[slot[order]]
        return pa.table({
            "campaign_id": _repeated(campaign_id, len(rows)),
            "device_id": fleet.table["device_id"].take(pa.array(rows)), "t": t[order], "state": state[order],
            "reason": reason[order], "wave": np.full(len(rows), wave, np.int32), "attempt": attempt[order]},
            schema=EVENTS)


def _repeated(text: str, n: int) -> pa.Array:
    """``n`` copies of ``text`` as a string array (a Python list of n references first cost a second per
    ten million rows)."""
    return pa.repeat(pa.scalar(text, pa.string()), n)


def emulate_wave(plan: CampaignPlan, emulation: EmulationParams, waves: WavePlan, lo: int, hi: int,
                 release: np.ndarray, seed: int, book: RequestBook, n_threads: int | None = None,
                 places: BuildingPlaces | None = None) -> WaveOutcome:
    """Every attempt of the wave's units, first requested at ``release`` (slots already taken in ``book``);
    each retry takes the first free slots of ``book`` at or after its failure's back-off. With ``places`` (the
    plan's building_concurrency), an attempt starts once its building has a free place (building_places.py)."""
    with stage(f"wave {int(np.searchsorted(waves.wave_bounds, lo, side='right')) - 1} emulate"):
        return _emulate_wave(plan, emulation, waves, lo, hi, release, seed, book, n_threads, places)


def _emulate_wave(plan: CampaignPlan, emulation: EmulationParams, waves: WavePlan, lo: int, hi: int,
                  release: np.ndarray, seed: int, book: RequestBook, n_threads: int | None,
                  places: BuildingPlaces | None) -> WaveOutcome:
    n = hi - lo
    rows = np.stack([waves.hub_row[lo:hi], waves.meter_row[lo:hi]], axis=1)
    present = rows >= 0
    params = wave_params(plan, emulation)
    han_per = _fill(waves.han_per[lo:hi], params.han.per)
    bridge_per = _fill(waves.bridge_per[lo:hi], params.bridge.per)
    keys = waves.unit_key[lo:hi]
    out = WaveOutcome(target_version=plan.target_version, rows=rows, state=np.full((n, 2), int(State.TARGETED), np.uint8),
                      reason=np.zeros((n, 2), np.uint8), attempts=np.zeros((n, 2), np.int32),
                      t_final=np.full((n, 2), np.nan), sums={k: np.zeros((n, 2)) for k in _TRANSFER_SUMS},
                      download_s=np.zeros((n, 2)))
    buildings = _shared_air_buildings(params, places, waves.building, lo, hi)
    due = np.full((n, 2), np.nan)              # when each side's next attempt may go (its back-off)
    pending = present.copy()
    attempt = 1
    while pending.any():
        units = np.flatnonzero(pending.any(axis=1))
        sides = (pending[units, 0] * 1 + pending[units, 1] * 2).astype(np.uint8)
        if attempt == 1:
            start = release[units]
        else:
            start = retry_times(book, pending[units], due[units], waves.quota_codes(lo, hi, units))
        requested = start
        fleet_part = {"han_per": han_per[units], "bridge_per": bridge_per[units]}
        if buildings is None or places.cap == 1:
            # a cap of 1 never lets a building's units overlap: each has the air to itself, which the engine
            # gives exactly with every unit alone, held afterwards as without shared air
            result = emulate(fleet_part, plan.image_size, params, seed=attempt_seed(seed, attempt),
                             installation_keys=keys[units], sides=sides, n_threads=n_threads,
                             buildings=None if buildings is None else np.full(len(units), NO_BUILDING, np.int64))
            if places is not None and places.cap is not None and waves.building is not None:
                start = _held(places, waves.building[lo:hi][units], start, pending[units], result)
        else:
            start, result = _shared_air_attempt(params, places, buildings[units], requested, fleet_part, plan,
                                                attempt_seed(seed, attempt), keys[units], sides, n_threads,
                                                pending[units])
        _record_attempt(out, plan, units, start, pending, result, attempt, due, requested)
        attempt += 1
    return out


def _shared_air_buildings(params: EmulationParams, places: BuildingPlaces | None, building: np.ndarray | None,
                          lo: int, hi: int) -> np.ndarray | None:
    """With shared air (params.contention), each unit's building code for the engine (NO_BUILDING: alone).
    The wave plan knows the buildings only under a building cap (plan.building_concurrency), so shared air
    needs one: without it every unit would silently have the air to itself."""
    if not params.contention:
        return None
    if params.building_cap is not None:
        raise ParameterError("a campaign caps buildings with its plan's building_concurrency, not the emulation's "
                             "building_cap")
    if places is None or places.cap is None or building is None:
        raise ParameterError("a campaign with shared air (contention=True) needs a building_concurrency cap, "
                             "which groups its units by building (for no practical cap, give the largest "
                             "building's size)")
    return building[lo:hi]


def _shared_air_attempt(params: EmulationParams, places: BuildingPlaces, building: np.ndarray,
                        requested: np.ndarray, fleet_part: dict, plan: CampaignPlan, seed: int, keys: np.ndarray,
                        sides: np.ndarray, n_threads: int | None, pending: np.ndarray):
    """One attempt of the units with shared air: (each unit's start on the campaign clock, the engine result on
    each unit's own clock). The engine runs the units of this call together, each from its request, under the
    building cap (csrc/emu.h "Shared air": unit starts, building_cap and places held from before), with the
    places still busy from earlier engine calls (earlier waves and attempts, as the store gives them back)
    held until they free, so that no instant has more than the cap of a building's units downloading, whichever
    call they came from; the busy ends it gives are booked for later calls."""
    start = requested.astype(np.float64, copy=True)
    origin = float(start.min()) if len(start) else 0.0
    unit_start_ns = np.rint((start - origin) * 1e9).astype(np.int64)
    here = set(np.unique(building[building != NO_BUILDING]).tolist())
    held = [(b, end) for b, ends in places.latest_ends().items() if b in here for end in ends if end > origin]
    held_places = (np.array([b for b, _ in held], dtype=np.int64),
                   np.rint((np.array([e for _, e in held], dtype=np.float64) - origin) * 1e9).astype(np.int64))
    capped = dataclasses.replace(params, building_cap=places.cap)
    result = emulate(fleet_part, plan.image_size, capped, seed=seed, installation_keys=keys, sides=sides,
                     n_threads=n_threads, buildings=building, unit_start_ns=unit_start_ns,
                     held_places=held_places if held else None)
    busy = np.full(pending.shape, -np.inf)
    for side in (0, 1):
        r = 2 * np.arange(len(start)) + side
        done = result.t_download_end[r]
        busy[:, side] = np.where(pending[:, side], np.where(np.isfinite(done), done, result.t_end[r]), -np.inf)
    places.mark_busy(building, start + busy.max(axis=1))
    return start, result


def _held(places: BuildingPlaces, building: np.ndarray, requested: np.ndarray, sides: np.ndarray,
          result) -> np.ndarray:
    """Start of each unit's attempt under the building cap: booked in order of request time (ties in campaign
    order), each busy until its last targeted bridge finished downloading or ended without doing so."""
    busy = np.full(sides.shape, -np.inf)
    for side in (0, 1):
        r = 2 * np.arange(len(requested)) + side
        done = result.t_download_end[r]
        busy[:, side] = np.where(sides[:, side], np.where(np.isfinite(done), done, result.t_end[r]), -np.inf)
    order = np.lexsort((np.arange(len(requested)), requested))
    start = np.empty(len(requested))
    start[order] = places.start_times(building[order], requested[order], busy.max(axis=1)[order])
    return start


def _fill(values: np.ndarray, default: float) -> np.ndarray:
    return np.where(np.isnan(values), default, values).astype(np.float64)


def _record_attempt(out: WaveOutcome, plan: CampaignPlan, units: np.ndarray, start: np.ndarray,
                    pending: np.ndarray, result, attempt: int, due: np.ndarray,
                    requested: np.ndarray | None = None) -> None:
    requested = start if requested is None else requested
    for side in (0, 1):
        mine = pending[units, side]
        if not mine.any():
            continue
        u = units[mine]
        r = 2 * np.flatnonzero(mine) + side            # result rows (installation k -> 2k + side)
        slot = 2 * u + side
        t0 = start[mine]
        col = {name: getattr(result, name)[r] for name in ("outcome", "t_end", "t_readback", "t_download_start",
                                                             "t_download_end", *[s for s, _ in _STAGES])}
        if plan.activate_at_s is not None:
            _activate_at(col, plan.activate_at_s - t0)
        request = outcome("requested")
        out.events.append((slot, requested[mine], request.state, np.uint8(request.reason), attempt))
        for name, key in _STAGES:
            reached = np.isfinite(col[name])
            stage = outcome(key)
            out.events.append((slot[reached], t0[reached] + col[name][reached], stage.state, np.uint8(stage.reason),
                               attempt))
        for k in _TRANSFER_SUMS:
            out.sums[k][u, side] += getattr(result, k)[r]
        span = col["t_download_end"] - col["t_download_start"]
        out.download_s[u, side] += np.where(np.isfinite(span), span, 0.0)
        out.attempts[u, side] = attempt
        t_end = t0 + col["t_end"]
        for code, row in enumerate(emulator_rows()):
            hit = col["outcome"] == code
            if row.state is None or not hit.any():
                continue
            why = row.reason_on(side)
            # success is known at the read-back; anything else when the engine says the attempt ended
            t = t0[hit] + (col["t_readback"][hit] if row.state == State.VERIFIED else col["t_end"][hit])
            out.events.append((slot[hit], t, row.state, np.uint8(why), attempt))
            out.state[u[hit], side] = row.state
            out.reason[u[hit], side] = why
            out.t_final[u[hit], side] = t
            again = row.retry is not None and attempt < plan.retry.attempts_for(row.retry)
            pending[u[hit], side] = again
            if again:
                due[u[hit], side] = t_end[hit] + plan.retry.backoff_s * 2 ** (attempt - 1)


def _activate_at(col: dict[str, np.ndarray], instant: np.ndarray) -> None:
    """Move activation, read-back and their outcome's end to ``instant`` (per device, on its attempt's own
    clock) where the download ended before it: the engine's rule, max(Upgrade End, activation time).

    The engine takes one activation time per run, on a clock that starts at each unit's request, while the
    units of one run are requested at different times; and an activation time moves nothing in the engine
    but these three times (the activation draw, the downloads and the deadline do not depend on it)."""
    wait = np.maximum(instant - col["t_activation"], 0.0)
    wait = np.where(np.isfinite(wait), wait, 0.0)           # never activated: nothing to move
    col["t_activation"] = col["t_activation"] + wait
    col["t_readback"] = col["t_readback"] + wait
    col["t_end"] = col["t_end"] + np.where(np.isin(col["outcome"], _known_after_activation()), wait, 0.0)


def _known_after_activation() -> list[int]:
    """Codes of the engine's outcomes that are only known once the device activated (or failed to)."""
    return [code for code, row in enumerate(emulator_rows())
            if row.state in (State.VERIFIED, State.ACTIVATION_FAILED)]
