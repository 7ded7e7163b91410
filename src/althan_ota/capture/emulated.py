"""Chosen installations' emulated traffic as a capture: their OTA frames at the emulator's own times.

:func:`emulated_capture` runs ``emulate(..., fidelity="bytes", trace=True)`` over exactly the installations
asked for. The frames come from the byte pass: every Image Block Response each device was sent
(``EmulationResult.device_frames``: the PSDUs as sent, FCS included, corrupted repeats with their bit errors),
each device under its own NWK key (``emulate.bytes.device_key``), the CH's frame counters from 1. Their times
come from the exchange trace (``emulate/trace.py``): the timing engine's integer-nanosecond clock for every
exchange of every traced device, so the gaps are the emulated ones: the block period after each response, the
response timeout before a re-request, duty-cycle waits on the bridge link, outages.

Matching: the byte pass sends one response per exchange, in exchange order, except for the successful Upgrade
End exchange, which carries no image data: a device's k-th response belongs to its k-th traced exchange other
than that one (the counts are checked; a mismatch raises :class:`CaptureError`; a failed Upgrade End exchange,
rare, has the corrupted Image Block Response the byte pass counts for it). A response is stamped when
its exchange's last link-layer attempt ended: when it arrived, or for a lost exchange when the last attempt
failed (the client then waits out the response timeout), or for an exchange an outage cut, when the path went
down. The byte pass corrupts exactly the responses of the exchanges the timing run lost (or an outage cut), at
their block (it reads where from the timing run's log: csrc/emu_bytes.h, csrc/emu_lost.h), so a corrupted frame
always carries a lost exchange's time and offset, and an intact one a delivered exchange's.

With ``requests`` (the default) the bridges' side is there too, built with the same frame builders
(``althan_ota.frames``): each exchange's request from the bridge (NWK short BRIDGE_SHORT + side) to the CH at
the time it was sent, an Image Block Request for the offset its response carries (so that a request and its
response always agree; the engine's own offsets are in ``result.trace``), or an Upgrade End Request once the
image is complete, and the CH's Upgrade End Response when that exchange succeeded (ZCL UTCTime: the current
time, and the emulated activation as the upgrade time). A bridge's frames
are secured under the device's NWK key with the bridge's own EUI-64 (:func:`bridge_eui64`) and frame counters
from 1; an exchange's request and response share their ZCL transaction sequence number. The emulator does not
model Query Next Image, so there is none. Devices are merged in time order (a device's frames keep their
exchange order); times are seconds since the epoch, the campaign starting at ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import frames as F
from ..errors import CaptureError, ParameterError
from .session import SessionConfig

_CHUNK = 4096               # frames fetched from the byte pass per call
# the byte pass's addresses and image identity (csrc/emu_bytes.h, ALT_EMU_BYTES_*)
BRIDGE_SHORT = 0x4C2E       # side s is BRIDGE_SHORT + s
PAN = 0x1A62
CH_EUI64 = 0x00124B0000000000
BRIDGE_EUI64 = 0x00124B0001000000
ZIGBEE_EPOCH = 946_684_800  # 2000-01-01T00:00:00Z: ZCL UTCTime counts seconds from here


@dataclass
class EmulatedFrame:
    time: float
    psdu: bytes
    device: int          # index into the device list emulated_capture returns
    corrupted: bool      # a repeat with bit errors (the receiver dropped it, or in rare cases did not notice)
    command: str = "ImageBlockResponse"     # the OTA command's class name (althan_ota.frames)
    sender: str = "server"                  # "server" (the CH) or "client" (the bridge)


@dataclass
class EmulatedDevice:
    installation: str    # as asked for: the number, or the fleet's installation ID
    unit_key: int        # the emulator's installation key (RNG key; a fleet's hub-side bridge row)
    side: str            # "hub_side" or "meter_side"
    client: int          # the bridge's NWK short address (the responses' destination)
    nwk_key: bytes
    outcome: str
    hash_ok: bool        # the device reassembled the whole image and its SHA-256 matched
    frames: int          # Image Block Responses the byte pass sent it (corrupted repeats included)
    t_download_start: float    # seconds from the campaign start (NaN: no download): its first request
    t_download_end: float      # its last block's response; t_end for a download that did not finish
    requests: int = 0    # frames the bridge sent (requests == exchanges traced; 0 without requests)


def bridge_eui64(unit_key: int, side: int) -> int:
    """The EUI-64 an emulated capture gives a bridge (its NWK security source)."""
    return BRIDGE_EUI64 | (unit_key & 0x7FFFFF) << 1 | side


def emulated_capture(image, installations, seed: int = 0, params=None, fleet=None, *,
                     start: float = SessionConfig.start, byte_params=None, requests: bool = True
                     ) -> tuple[list[EmulatedFrame], list[EmulatedDevice]]:
    """The frames of the chosen installations' downloads in a bytes-fidelity emulation, at the emulated times,
    in time order; and each device with its NWK key (what Wireshark and :func:`read_transfers` need to decrypt
    them). ``requests=False`` keeps only the Image Block Responses the devices were sent.

    ``installations``: installation numbers (the emulator's installation keys), or with ``fleet`` (a
    :class:`~althan_ota.fleet.Fleet` or an inventory path) installation IDs such as ``INST-000000123``, which
    map to the campaign's unit keys (the row of the hub-side bridge) and use the fleet's han_per / bridge_per
    (missing values: the parameters' defaults)."""
    from ..emulate import EmulationParams, emulate
    from ..emulate.bytes import device_key, image_identity
    from ..emulate.result import SIDES

    identity = image_identity(image)

    params = EmulationParams() if params is None else params
    if not isinstance(requests, bool):
        raise ParameterError(f"requests must be True or False, got {requests!r}")
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
                     byte_params=byte_params, trace=True)
    reasons = result.reasons()
    devices: list[EmulatedDevice] = []
    frames: list[EmulatedFrame] = []
    order_keys = []             # (time, device, position in the device's frame sequence) per frame
    for row in range(len(result)):
        unit, side = divmod(row, 2)
        n = int(result.frames_built[row])
        exchanges = result.trace.device(row)
        t0, t1 = float(result.t_download_start[row]), float(result.t_download_end[row])
        if np.isnan(t1):            # a download that never finished: until its outcome was known (abort, deadline)
            t1 = float(result.t_end[row])
        nwk_key = device_key(seed, int(keys[unit]), side)
        device = EmulatedDevice(
            installation=labels[unit], unit_key=int(keys[unit]), side=SIDES[side], client=BRIDGE_SHORT + side,
            nwk_key=nwk_key, outcome=str(reasons[row]), hash_ok=bool(result.hash_ok[row]), frames=n,
            t_download_start=t0, t_download_end=t1, requests=len(exchanges) if requests else 0)
        devices.append(device)
        mine, offsets = _device_frames(result, row, n, exchanges, start)
        if requests:
            mine = _with_requests(mine, offsets, exchanges, device, row, result, start, identity)
        for position, frame in enumerate(mine):
            frame.device = row
            frames.append(frame)
            order_keys.append((frame.time, row, position))
    order = sorted(range(len(frames)), key=order_keys.__getitem__)
    return [frames[i] for i in order], devices


def _device_frames(result, row: int, n: int, exchanges: np.ndarray, start: float
                   ) -> tuple[list[EmulatedFrame], np.ndarray]:
    """The device's Image Block Responses from the byte pass, stamped with their exchanges' times, and the
    file offset each carries."""
    from ..emulate.trace import KINDS, RESULTS

    upgrade_end_done = (exchanges["kind"] == KINDS.index("upgrade_end")) & \
        (exchanges["result"] == RESULTS.index("delivered"))
    carried = exchanges[~upgrade_end_done]
    if carried.shape[0] != n:
        raise CaptureError(f"device row {row}: the byte pass sent {n} Image Block Responses but the timing run "
                           f"traced {carried.shape[0]} exchanges that carry one: they must match one to one")
    cut = carried["result"] == RESULTS.index("cut")
    times = start + np.where(cut, carried["t_response"], carried["t_attempts_end"])
    out: list[EmulatedFrame] = []
    offsets = np.empty(n, dtype=np.uint32)
    for first in range(0, n, _CHUNK):
        count = min(_CHUNK, n - first)
        psdus, bad, at = result.device_frames(row, first, count, offsets=True)
        if len(psdus) != count:
            raise CaptureError(f"device row {row}: the byte pass returned {len(psdus)} frames from frame {first}, "
                               f"{count} were counted")
        offsets[first:first + count] = at
        out.extend(EmulatedFrame(float(times[first + i]), psdu, row, bool(bad[i]))
                   for i, psdu in enumerate(psdus))
    return out, offsets


def _with_requests(responses: list[EmulatedFrame], offsets: np.ndarray, exchanges: np.ndarray,
                   device: EmulatedDevice, row: int, result, start: float, identity) -> list[EmulatedFrame]:
    """The device's frames with each exchange's request before its response (a block request for the offset
    its response carries), and the Upgrade End Response."""
    from ..emulate.trace import KINDS, RESULTS

    upgrade_end, delivered = KINDS.index("upgrade_end"), RESULTS.index("delivered")
    side = 0 if device.side == "hub_side" else 1
    client_ieee = bridge_eui64(device.unit_key, side)
    server_ieee = CH_EUI64 | (device.unit_key & 0xFFFFFF)
    ident = dict(zip(("manufacturer", "image_type", "file_version"), identity))
    block_size = result.params.ota.block_size
    out: list[EmulatedFrame] = []
    for k, x in enumerate(exchanges):
        seq = k & 0xFF
        if x["kind"] == upgrade_end:
            request = F.UpgradeEndRequest(F.SUCCESS, **ident)
        else:
            request = F.ImageBlockRequest(file_offset=int(offsets[k]), max_data_size=block_size, **ident)
        psdu = F.build(_frame(device.client, 0x0000, client_ieee, seq, k + 1, request), nwk_key=device.nwk_key)
        out.append(EmulatedFrame(start + float(x["t_request"]), psdu, 0, False, type(request).__name__, "client"))
        if k < len(responses):
            out.append(responses[k])
        elif x["kind"] == upgrade_end and x["result"] == delivered:
            now = start + float(x["t_response"])
            activation = float(result.t_activation[row])
            upgrade_at = start + activation if np.isfinite(activation) else now
            response = F.UpgradeEndResponse(current_time=int(now) - ZIGBEE_EPOCH,
                                            upgrade_time=int(upgrade_at) - ZIGBEE_EPOCH, **ident)
            # the CH's frame counter for this device continues after its len(responses) block responses
            psdu = F.build(_frame(0x0000, device.client, server_ieee, seq, len(responses) + 1, response),
                           nwk_key=device.nwk_key)
            out.append(EmulatedFrame(now, psdu, 0, False, type(response).__name__, "server"))
    return out


def _frame(src: int, dst: int, src_ieee: int, seq: int, counter: int, ota) -> F.Frame:
    """A HAN frame as the byte pass builds them (csrc/emu_bytes.c frame_template), from src to dst."""
    to_client = ota.SERVER_TO_CLIENT
    mac = F.MacHeader(seq=seq, dst_pan=PAN, dst_addr=dst, src_addr=src, ack_request=True)
    nwk = F.NwkHeader(dst=dst, src=src, seq=seq, sec_src=src_ieee, frame_counter=counter)
    zcl = F.ZclHeader(seq=seq, command=ota.COMMAND, server_to_client=to_client, disable_default_response=to_client)
    return F.Frame(mac, nwk, F.ApsHeader(counter=seq), zcl, ota)


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
