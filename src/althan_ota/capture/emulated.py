"""Chosen installations' emulated traffic as a capture: their OTA frames at the emulator's own times.

:func:`emulated_capture` runs ``emulate(..., fidelity="bytes", trace=True)`` over exactly the installations
asked for. The frames come from the byte pass: every Image Block Response each device was sent
(``EmulationResult.device_frames``: the PSDUs as sent, FCS included, corrupted repeats with their bit errors),
each device under its own NWK key (``emulate.bytes.device_key``), the CH's frame counters from 1. Their times
come from the exchange trace (``emulate/trace.py``): the timing engine's integer-nanosecond clock for every
exchange of every traced device, so the gaps are the emulated ones: the block period after each response, the
response timeout before a re-request, duty-cycle waits on the bridge link, outages.

Matching: the byte pass sends one Image Block Response per data exchange, in exchange order: a device's
k-th response belongs to its k-th traced block or Upgrade End exchange, leaving out the Image Notify, the Query
Next Image exchange, exchanges the CH answered WAIT_FOR_DATA (none of which carry image data) and the
successful Upgrade End exchange (the counts are checked; a mismatch raises :class:`CaptureError`). A response is
stamped when its exchange's last link-layer attempt ended: when it arrived, or for a lost exchange when the
last attempt failed (the client then waits out the response timeout), or for an exchange an outage cut, when
the path went down.
The byte pass corrupts exactly the responses of the exchanges the timing run lost (or an outage cut), at
their block (it reads where from the timing run's log: csrc/emu_bytes.h, csrc/emu_lost.h), so a corrupted frame
always carries a lost exchange's time and offset, and an intact one a delivered exchange's.

A response is in the capture exactly when the CH sent it, that is when the exchange's request reached the CH
(the trace's ``answered``): the byte pass's corrupted repeat of an exchange whose request was lost is left out
(that exchange shows its request and nothing else), and so is the repeat of the last block it counts for a lost
Upgrade End exchange (the CH's Upgrade End Response stands there instead). Lost responses of the other commands
are built here and corrupted as the byte pass corrupts its own (K >= 1 flipped bits, K ~ Binomial(N, ber) given
K >= 1, the device's ber: ``emulate.bytes.frame_ber``; drawn from a generator keyed by the seed, the unit key
and the side), so every command the CH answers with shows when it was lost.

The rest of the command set (csrc/emu.h, "The command set") is built here with the same frame builders
(``althan_ota.frames``): each download starts with the CH's Image Notify (payload type 3: query jitter 100, the
image's manufacturer code, type and version; one per notify the CH sent, lost or not, at the time it sent it), and
with ``requests`` (the default) the bridge's Query Next Image Request (its current version: the image's less one)
and the CH's Query Next Image Response (SUCCESS, the image's identity and size); an exchange the CH answered
WAIT_FOR_DATA has its Image Block Request and that Image Block Response (ZCL UTCTime current time, the time to come
back, and the minimum block period in milliseconds). The bridges' side: each exchange's request from the bridge
(NWK short BRIDGE_SHORT + side) to the CH at the time it was sent, an Image Block Request for the offset its
response carries (so that a request and its response always agree; the engine's own offsets are in
``result.trace``), or an Upgrade End Request once the image is complete, and the CH's Upgrade End Response (ZCL
UTCTime: the current time, and the emulated activation as the upgrade time; for a lost one, its own time). A
bridge's frames are secured under the device's NWK key with the bridge's own EUI-64 (:func:`bridge_eui64`) and
frame counters from 1; an exchange's request and response share their ZCL transaction sequence number (the
exchange's index). The CH's frames to a device count their NWK frame counter from 1 across all of them, so the byte
pass's responses, which count their own frames only, are re-secured with the counter and sequence number they take
in the whole sequence (their content unchanged); corrupted ones are kept as the byte pass sent them, bit errors and
all (no receiver accepts them, so their counters never matter). ``requests=False`` keeps only the Image Block
Responses (WAIT_FOR_DATA answers included). Devices are merged in time order (a device's frames keep their exchange
order); times are seconds since the epoch, the campaign starting at ``start``.
"""

from __future__ import annotations

import math
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
    frames: int          # Image Block Responses the byte pass built for it (its repeats included; the capture
                         # keeps those the CH sent)
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
    from ..emulate.bytes import ByteParams, device_key, image_identity
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
            t_download_start=t0, t_download_end=t1,
            requests=int(np.count_nonzero(exchanges["kind"] != _kind("image_notify"))) if requests else 0)
        devices.append(device)
        mine, offsets = _device_frames(result, row, n, exchanges, start)
        mine = _command_set(mine, offsets, exchanges, device, row, result, start, identity,
                            byte_params or ByteParams())
        if not requests:
            mine = [f for f in mine if f.command == "ImageBlockResponse"]
        for position, frame in enumerate(mine):
            frame.device = row
            frames.append(frame)
            order_keys.append((frame.time, row, position))
    order = sorted(range(len(frames)), key=order_keys.__getitem__)
    return [frames[i] for i in order], devices


def _kind(name: str) -> int:
    from ..emulate.trace import KINDS
    return KINDS.index(name)


def _carries_data(exchanges: np.ndarray) -> np.ndarray:
    """The exchanges the byte pass sent an Image Block Response for: block and Upgrade End exchanges (not the
    notify, the query, WAIT_FOR_DATA answers), less the successful Upgrade End exchange."""
    from ..emulate.trace import RESULTS

    kind = exchanges["kind"]
    data = np.isin(kind, [_kind("block"), _kind("last_block"), _kind("upgrade_end")])
    upgrade_end_done = (kind == _kind("upgrade_end")) & (exchanges["result"] == RESULTS.index("delivered"))
    return data & ~upgrade_end_done


def _device_frames(result, row: int, n: int, exchanges: np.ndarray, start: float
                   ) -> tuple[list[EmulatedFrame], np.ndarray]:
    """The device's Image Block Responses from the byte pass, stamped with their exchanges' times, and the
    file offset each carries."""
    from ..emulate.trace import RESULTS

    carried = exchanges[_carries_data(exchanges)]
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


def _resecured(frame: EmulatedFrame, nwk_key: bytes, seq: int, counter: int, row: int) -> EmulatedFrame:
    """An intact byte-pass response with the CH's frame counter and the exchange's sequence number of the whole
    command set (its content unchanged); a corrupted one as it was sent."""
    if frame.corrupted:
        return frame
    parsed = F.parse(frame.psdu, F.Keys(nwk_key=nwk_key))
    f = parsed.frame
    if F.build(f, nwk_key=nwk_key) != frame.psdu:
        raise CaptureError(f"device row {row}: a byte-pass response does not rebuild to its own bytes")
    if f.nwk.frame_counter == counter and f.zcl.seq == seq:
        return frame
    f.mac.seq = f.nwk.seq = f.aps.counter = f.zcl.seq = seq
    f.nwk.frame_counter = counter
    return EmulatedFrame(frame.time, F.build(f, nwk_key=nwk_key), frame.device, False, frame.command, frame.sender)


def _command_set(responses: list[EmulatedFrame], offsets: np.ndarray, exchanges: np.ndarray,
                 device: EmulatedDevice, row: int, result, start: float, identity, byte_params
                 ) -> list[EmulatedFrame]:
    """The device's whole command set in exchange order: the CH's Image Notify, each exchange's request from the
    bridge (a block request for the offset its response carries) and, when the request reached the CH, its
    response (the byte pass's Image Block Responses; the CH's Query Next Image Response, WAIT_FOR_DATA answer
    and Upgrade End Response), corrupted when it was lost."""
    from ..emulate.bytes import frame_ber
    from ..emulate.trace import RESULTS

    delivered, cut = RESULTS.index("delivered"), RESULTS.index("cut")
    notify, query, wait = _kind("image_notify"), _kind("query_next_image"), _kind("wait_for_data")
    upgrade_end = _kind("upgrade_end")
    side = 0 if device.side == "hub_side" else 1
    client_ieee = bridge_eui64(device.unit_key, side)
    server_ieee = CH_EUI64 | (device.unit_key & 0xFFFFFF)
    ident = dict(zip(("manufacturer", "image_type", "file_version"), identity))
    current = dict(ident, file_version=max(ident["file_version"] - 1, 0))      # what the bridge runs before
    ota = result.params.ota
    block_size = ota.block_size
    carries = _carries_data(exchanges)
    out: list[EmulatedFrame] = []
    sent = {"client": 0, "server": 0}         # NWK frame counters so far

    def add(time: float, sender: str, seq: int, command, lost: bool = False) -> None:
        sent[sender] += 1
        src, dst, ieee = (device.client, 0x0000, client_ieee) if sender == "client" else \
            (0x0000, device.client, server_ieee)
        psdu = F.build(_frame(src, dst, ieee, seq, sent[sender], command), nwk_key=device.nwk_key)
        frame = EmulatedFrame(time, psdu, 0, False, type(command).__name__, sender)
        out.append(_corrupted(frame, ber, errors) if lost else frame)

    full_block = F.ImageBlockResponse(F.SUCCESS, file_offset=0, data=bytes(block_size), **ident)
    full_bits = 8 * len(F.build(_frame(0x0000, device.client, server_ieee, 0, 1, full_block), nwk_key=device.nwk_key))
    unit = row // 2
    ber = frame_ber(byte_params, float(result.han_per[unit]), float(result.bridge_per[unit]), side, full_bits)
    errors = np.random.default_rng([result.seed, device.unit_key, side])    # bit errors of lost responses built here
    j = 0                                     # the byte pass's responses used so far
    for k, x in enumerate(exchanges):
        seq = k & 0xFF
        kind, ok, answered = int(x["kind"]), int(x["result"]) == delivered, bool(x["answered"])
        t_request = start + float(x["t_request"])
        # a response that arrived, at its arrival; one that did not, when its last attempt ended (or the path
        # went down), as the byte pass's corrupted repeats are stamped (_device_frames)
        t_response = start + float(x["t_response"] if ok or int(x["result"]) == cut else x["t_attempts_end"])

        if kind == notify:
            add(t_request, "server", seq, F.ImageNotify(payload_type=3, query_jitter=100, **ident))
            continue
        if kind == query:
            add(t_request, "client", seq, F.QueryNextImageRequest(**current))
            if answered:
                add(t_response, "server", seq, F.QueryNextImageResponse(F.SUCCESS, image_size=result.image_size, **ident),
                    lost=not ok)
            continue
        if kind == upgrade_end:
            add(t_request, "client", seq, F.UpgradeEndRequest(F.SUCCESS, **ident))
        else:
            offset = int(offsets[j]) if carries[k] else int(x["offset"])
            add(t_request, "client", seq, F.ImageBlockRequest(file_offset=offset, max_data_size=block_size, **ident))
        if carries[k]:
            j += 1
            # the byte pass's frame for a lost Upgrade End exchange is a repeat of the last block: the CH's
            # Upgrade End Response stands for it below; nor did a CH the request never reached send anything
            if kind != upgrade_end and answered:
                sent["server"] += 1
                out.append(_resecured(responses[j - 1], device.nwk_key, seq, sent["server"], row))
        if kind == wait and answered:
            # UTCTime counts whole seconds: come back no earlier than the CH asked
            add(t_response, "server", seq, F.ImageBlockResponse(
                F.WAIT_FOR_DATA, current_time=int(t_response) - ZIGBEE_EPOCH,
                request_time=math.ceil(t_response + ota.wait_for_data_delay_s) - ZIGBEE_EPOCH,
                min_block_period=round(ota.min_block_period_s * 1000)), lost=not ok)
        elif kind == upgrade_end and answered:
            activation = float(result.t_activation[row])
            upgrade_at = start + activation if ok and np.isfinite(activation) else t_response
            add(t_response, "server", seq, F.UpgradeEndResponse(
                current_time=int(t_response) - ZIGBEE_EPOCH, upgrade_time=int(upgrade_at) - ZIGBEE_EPOCH, **ident),
                lost=not ok)
    return out


def _corrupted(frame: EmulatedFrame, ber: float, rng: np.random.Generator) -> EmulatedFrame:
    """The frame with the byte pass's bit errors (csrc/emu_bytes.h): K >= 1 flipped bits, K ~ Binomial(N, ber)
    given K >= 1. Drawn as the first flipped bit (geometric, truncated to the frame) and independent flips after
    it, which is the same distribution."""
    bits = np.unpackbits(np.frombuffer(frame.psdu, dtype=np.uint8), bitorder="little")
    n = bits.size
    if ber <= 0.0:
        first = int(rng.integers(n))
        flips = np.zeros(n, dtype=bool)
    else:
        q = math.log1p(-ber)
        any_flip = -math.expm1(n * q)
        first = min(int(math.log1p(-rng.random() * any_flip) / q), n - 1)
        flips = rng.random(n) < ber
        flips[:first] = False
    flips[first] = True
    psdu = np.packbits(bits ^ flips, bitorder="little").tobytes()
    return EmulatedFrame(frame.time, psdu, frame.device, True, frame.command, frame.sender)


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
