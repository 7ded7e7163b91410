"""Chosen installations' emulated traffic as a capture: the frames the emulator's bytes fidelity sent them.

:func:`emulated_capture` runs ``emulate(..., fidelity="bytes")`` over exactly the installations asked for and
takes every Image Block Response each device was sent (``EmulationResult.device_frames``: the PSDUs as sent,
FCS included, corrupted repeats with their bit errors). Those are the only frames the byte pass builds: no
Query Next Image, Image Block Request or Upgrade End frames, and each device has its own NWK key
(``emulate.bytes.device_key``) and frame counters starting at 1.

Timestamps: the timing run records when a device's download started and ended, not when each exchange
happened, so a device's n frames are spread evenly over its (t_download_start, t_download_end], frame k at
start + (end - start) (k + 1) / n, in the order the exchanges were sent; a download that did not finish ends
at the device's t_end (when it aborted or the deadline passed). Devices are merged in time order; times
are seconds since the epoch, the campaign starting at ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from .session import SessionConfig

_CHUNK = 4096               # frames fetched from the byte pass per call
BRIDGE_SHORT = 0x4C2E       # ALT_EMU_BYTES_BRIDGE_SHORT (csrc/emu_bytes.h): side s is BRIDGE_SHORT + s


@dataclass
class EmulatedFrame:
    time: float
    psdu: bytes
    device: int          # index into the device list emulated_capture returns
    corrupted: bool      # a repeat with bit errors (the receiver dropped it, or in rare cases did not notice)


@dataclass
class EmulatedDevice:
    installation: str    # as asked for: the number, or the fleet's installation ID
    unit_key: int        # the emulator's installation key (RNG key; a fleet's hub-side bridge row)
    side: str            # "hub_side" or "meter_side"
    client: int          # the bridge's NWK short address (the frames' destination)
    nwk_key: bytes
    outcome: str
    hash_ok: bool        # the device reassembled the whole image and its SHA-256 matched
    frames: int
    t_download_start: float    # seconds from the campaign start (NaN: no download)
    t_download_end: float      # the last frame's time; t_end for a download that did not finish


def emulated_capture(image, installations, seed: int = 0, params=None, fleet=None, *,
                     start: float = SessionConfig.start, byte_params=None
                     ) -> tuple[list[EmulatedFrame], list[EmulatedDevice]]:
    """The frames the chosen installations' devices were sent in a bytes-fidelity emulation, with emulated
    timestamps, in time order; and each device with its NWK key (what Wireshark and :func:`read_transfers`
    need to decrypt them).

    ``installations``: installation numbers (the emulator's installation keys), or with ``fleet`` (a
    :class:`~althan_ota.fleet.Fleet` or an inventory path) installation IDs such as ``INST-000000123``, which
    map to the campaign's unit keys (the row of the hub-side bridge) and use the fleet's han_per / bridge_per
    (missing values: the parameters' defaults)."""
    from ..emulate import EmulationParams, emulate
    from ..emulate.bytes import device_key
    from ..emulate.result import SIDES

    params = EmulationParams() if params is None else params
    if isinstance(installations, (str, int)):
        installations = [installations]
    labels = [str(i) for i in installations]
    if not labels:
        raise ParameterError("give at least one installation")
    if fleet is None:
        keys = _numbers(installations)
        links: dict | int = len(keys)
    else:
        keys, links = _from_fleet(fleet, labels, params)
    if len(set(keys.tolist())) != len(keys):
        raise ParameterError(f"installations repeat: {labels}")
    result = emulate(links, params=params, seed=seed, fidelity="bytes", image=image, installation_keys=keys,
                     byte_params=byte_params)
    reasons = result.reasons()
    devices: list[EmulatedDevice] = []
    times, psdus, owners, corrupted = [], [], [], []
    for row in range(len(result)):
        unit, side = divmod(row, 2)
        n = int(result.frames_built[row])
        t0, t1 = float(result.t_download_start[row]), float(result.t_download_end[row])
        if np.isnan(t1):            # a download that never finished: until its outcome was known (abort, deadline)
            t1 = float(result.t_end[row])
        devices.append(EmulatedDevice(
            installation=labels[unit], unit_key=int(keys[unit]), side=SIDES[side], client=BRIDGE_SHORT + side,
            nwk_key=device_key(seed, int(keys[unit]), side), outcome=str(reasons[row]),
            hash_ok=bool(result.hash_ok[row]), frames=n, t_download_start=t0, t_download_end=t1))
        if n == 0:
            continue
        if not (np.isfinite(t0) and np.isfinite(t1) and t1 >= t0):
            raise ParameterError(f"device row {row} was sent {n} frames without a download interval "
                                 f"[{t0}, {t1}]")
        for first in range(0, n, _CHUNK):
            frames, bad = result.device_frames(row, first, min(_CHUNK, n - first))
            psdus.extend(frames)
            corrupted.append(np.asarray(bad, dtype=bool))
        times.append(start + t0 + (t1 - t0) * np.arange(1, n + 1) / n)
        owners.append(np.full(n, row, dtype=np.int64))
    if not psdus:
        return [], devices
    t = np.concatenate(times)
    owner = np.concatenate(owners)
    bad = np.concatenate(corrupted)
    if len(psdus) != t.size:
        raise ParameterError(f"the byte pass returned {len(psdus)} frames, {t.size} were counted")
    order = np.lexsort((owner, t))   # stable per device: its frames keep their exchange order
    return [EmulatedFrame(float(t[i]), psdus[i], int(owner[i]), bool(bad[i])) for i in order], devices


def _numbers(installations) -> np.ndarray:
    out = []
    for item in installations:
        try:
            value = int(item)
        except (TypeError, ValueError):
            raise ParameterError(f"installation {item!r} is not a number; installation IDs need a fleet") from None
        if not 0 <= value < 2**63:
            raise ParameterError(f"installation {value} is out of range [0, 2**63)")
        out.append(value)
    return np.asarray(out, dtype=np.uint64)


def _from_fleet(fleet, labels: list[str], params) -> tuple[np.ndarray, dict]:
    """Unit keys and link PERs of the named installations, as a campaign derives them (campaign/plan.py)."""
    from ..fleet import Fleet, read_fleet

    if isinstance(fleet, (str, Path)):
        fleet = read_fleet(fleet)
    if not isinstance(fleet, Fleet):
        raise ParameterError(f"fleet must be a Fleet or an inventory path, got {type(fleet).__name__}")
    ids, hub, _ = fleet.pairs()
    index = {name: k for k, name in enumerate(ids.to_pylist())}
    missing = [name for name in labels if name not in index]
    if missing:
        raise ParameterError(f"installations not in the fleet's P2P pairs ({fleet.source}): {missing}")
    rows = hub[[index[name] for name in labels]]
    links = {}
    for col, default in (("han_per", params.han.per), ("bridge_per", params.bridge.per)):
        values = fleet.column(col).astype(np.float64)[rows] if col in fleet.table.column_names \
            else np.full(len(rows), np.nan)
        links[col] = np.where(np.isnan(values), default, values)
    return rows.astype(np.uint64), links
