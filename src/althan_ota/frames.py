"""Radio frames of an OTA download, byte for byte as devices send them, built and parsed in C.

Layers (each a dataclass; a :class:`Frame` holds the ones present):

* :class:`MacHeader` -- IEEE 802.15.4 MAC data frame (2003/2006), optional 2006 MAC security (the bridge
  link: CCM* with the MAC nonce, levels 1-7), FCS = CRC-16/KERMIT; at most 127 bytes on the air;
* :class:`NwkHeader` -- ZigBee PRO NWK header with NWK security (level 5, ENC-MIC-32, the ZigBee nonce;
  the level bits go on the air as 0);
* :class:`ApsHeader` -- ZigBee APS data frame (OTA Upgrade cluster 0x0019, Smart Energy profile 0x0109 by
  default), optional APS security;
* :class:`ZclHeader` and one OTA Upgrade command (ZCL 07-5123 chapter 11): :class:`ImageNotify`,
  :class:`QueryNextImageRequest` / :class:`QueryNextImageResponse`, :class:`ImageBlockRequest` /
  :class:`ImageBlockResponse` (SUCCESS, WAIT_FOR_DATA, ABORT), :class:`UpgradeEndRequest` /
  :class:`UpgradeEndResponse`.

:func:`build` gives the PSDU (with FCS); :func:`parse` checks FCS and MICs and returns a :class:`Parsed`;
:class:`Receiver` also refuses replayed frame counters, as a device does. Malformed frames raise
:class:`~althan_ota.errors.FrameError` (or are marked, with ``strict=False``), never crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cache
from typing import ClassVar, Union

import numpy as np

from ._native import _frames as _c
from .errors import FrameError, InvalidTag

__all__ = ["MacHeader", "NwkHeader", "ApsHeader", "ZclHeader", "ImageNotify", "QueryNextImageRequest",
           "QueryNextImageResponse", "ImageBlockRequest", "ImageBlockResponse", "UpgradeEndRequest",
           "UpgradeEndResponse", "Frame", "Keys", "Parsed", "Receiver", "build", "parse",
           "build_image_block_responses", "parse_many", "FrameError", "MAX_PSDU", "OTA_CLUSTER", "SE_PROFILE"]

MAX_PSDU = 127
OTA_CLUSTER = 0x0019
SE_PROFILE = 0x0109
ADDR_NONE, ADDR_SHORT, ADDR_EXT = 0, 2, 3
BROADCAST = 0xFFFF

# OTA status codes (ZCL 2.5.3)
SUCCESS, ABORT, INVALID_IMAGE, WAIT_FOR_DATA, NO_IMAGE_AVAILABLE = 0x00, 0x95, 0x96, 0x97, 0x98


@cache
def _names(cls) -> tuple[str, ...]:
    """A dataclass's field names (dataclasses.fields() is slow enough to matter per frame)."""
    return tuple(f.name for f in fields(cls))


@dataclass
class MacHeader:
    """IEEE 802.15.4 MAC header. Addresses are ints (a short address is < 0x10000). With ``security`` the
    frame is a 2006 frame with an auxiliary security header (the bridge link); its nonce uses ``src_addr``,
    which must then be extended."""
    seq: int = 0
    dst_pan: int = 0
    dst_addr: int = BROADCAST
    src_addr: int = 0
    src_pan: int | None = None          # None: PAN ID compression (same PAN as the destination)
    dst_mode: int = ADDR_SHORT
    src_mode: int = ADDR_SHORT
    frame_type: int = 1                 # data
    frame_version: int = 0
    ack_request: bool = False
    frame_pending: bool = False
    security: bool = False
    sec_level: int = 5                  # 802.15.4 level: 4..7 encrypt, MIC 0/4/8/16
    key_id_mode: int = 1
    key_index: int = 1
    key_source: int = 0
    frame_counter: int = 0
    command_id: int = 0                 # MAC command frames

    def _c(self) -> dict:
        d = dict(self.__dict__)
        compress = self.src_pan is None and bool(self.dst_mode) and bool(self.src_mode)
        d["pan_id_compression"] = compress
        d["src_pan"] = self.dst_pan if self.src_pan is None else self.src_pan
        if self.security and self.frame_version == 0:
            d["frame_version"] = 1      # security needs a 2006 frame
        return d

    @classmethod
    def _from_c(cls, d: dict) -> "MacHeader":
        kw = {name: d[name] for name in _names(cls) if name in d}
        if d["pan_id_compression"] and d["dst_mode"] and d["src_mode"]:
            kw["src_pan"] = None
        return cls(**kw)


@dataclass
class NwkHeader:
    """ZigBee PRO NWK header and NWK security. The nonce's extended source is ``sec_src`` (default: the
    source IEEE address ``src_ieee``)."""
    dst: int = 0x0000
    src: int = 0x0000
    radius: int = 30
    seq: int = 0
    dst_ieee: int | None = None
    src_ieee: int | None = None
    frame_type: int = 0                 # data
    protocol_version: int = 2
    discover_route: int = 1             # enable
    multicast: bool = False
    multicast_control: int = 0
    end_device_initiator: bool = False
    security: bool = True
    sec_level: int = 5
    key_id: int = 1                     # network key
    key_seq: int = 0
    frame_counter: int = 0
    sec_src: int | None = None
    source_route: bool = False          # parsed only
    relay_count: int = 0
    relay_index: int = 0

    def _c(self) -> dict:
        d = dict(self.__dict__)
        d["has_dst_ieee"] = self.dst_ieee is not None
        d["has_src_ieee"] = self.src_ieee is not None
        d["dst_ieee"] = self.dst_ieee or 0
        d["src_ieee"] = self.src_ieee or 0
        src = self.sec_src if self.sec_src is not None else self.src_ieee
        if self.security and src is None:
            raise FrameError("NWK security needs the sender's IEEE address: set sec_src or src_ieee")
        d["sec_src"] = src or 0
        d["ext_nonce"] = True
        return d

    @classmethod
    def _from_c(cls, d: dict) -> "NwkHeader":
        kw = {name: d[name] for name in _names(cls) if name in d}
        kw["dst_ieee"] = d["dst_ieee"] if d["has_dst_ieee"] else None
        kw["src_ieee"] = d["src_ieee"] if d["has_src_ieee"] else None
        kw["sec_src"] = d["sec_src"] if d["security"] else None
        return cls(**kw)


@dataclass
class ApsHeader:
    """ZigBee APS header (data frames by default) and optional APS security (extended nonce)."""
    counter: int = 0
    dst_endpoint: int = 1
    src_endpoint: int = 1
    cluster: int = OTA_CLUSTER
    profile: int = SE_PROFILE
    delivery_mode: int = 0              # unicast
    group: int = 0
    frame_type: int = 0
    ack_format: bool = False
    ack_request: bool = False
    extended_header: bool = False       # parsed only
    command_id: int = 0
    security: bool = False
    sec_level: int = 5
    key_id: int = 0                     # data (link) key
    key_seq: int = 0
    frame_counter: int = 0
    sec_src: int | None = None

    def _c(self) -> dict:
        d = dict(self.__dict__)
        if self.security and self.sec_src is None:
            raise FrameError("APS security needs the sender's IEEE address in sec_src")
        d["sec_src"] = self.sec_src or 0
        d["ext_nonce"] = True
        return d

    @classmethod
    def _from_c(cls, d: dict) -> "ApsHeader":
        kw = {name: d[name] for name in _names(cls) if name in d}
        kw["sec_src"] = d["sec_src"] if d["security"] else None
        return cls(**kw)


@dataclass
class ZclHeader:
    seq: int = 0
    command: int = 0
    frame_type: int = 1                 # cluster-specific
    server_to_client: bool = False
    disable_default_response: bool = False
    manufacturer: int | None = None     # set: a manufacturer-specific command

    def _c(self) -> dict:
        d = dict(self.__dict__)
        d["manufacturer_specific"] = self.manufacturer is not None
        d["manufacturer"] = self.manufacturer or 0
        return d

    @classmethod
    def _from_c(cls, d: dict) -> "ZclHeader":
        kw = {name: d[name] for name in _names(cls) if name in d}
        kw["manufacturer"] = d["manufacturer"] if d["manufacturer_specific"] else None
        return cls(**kw)


# --- OTA Upgrade cluster commands ---------------------------------------------------------------------

_OTA_C_FIELDS = ("status", "field_control", "manufacturer", "image_type", "file_version", "hardware_version",
                 "image_size", "file_offset", "data_size", "request_node", "min_block_period", "current_time",
                 "request_time", "query_jitter")


class _OtaCommand:
    COMMAND: ClassVar[int]
    SERVER_TO_CLIENT: ClassVar[bool]
    _RENAME: ClassVar[dict] = {}        # python field -> C field

    def _c(self) -> dict:
        d = dict.fromkeys(_OTA_C_FIELDS, 0)
        for name in _names(type(self)):
            if name != "data":
                value = getattr(self, name)
                d[self._RENAME.get(name, name)] = 0 if value is None else value
        return d

    @classmethod
    def _from_c(cls, d: dict, data: bytes):
        return cls(**{name: data if name == "data" else d[cls._RENAME.get(name, name)] for name in _names(cls)})


@dataclass
class ImageNotify(_OtaCommand):
    COMMAND: ClassVar[int] = 0x00
    SERVER_TO_CLIENT: ClassVar[bool] = True
    payload_type: int = 3
    query_jitter: int = 100
    manufacturer: int = 0
    image_type: int = 0
    file_version: int = 0
    _RENAME: ClassVar[dict] = {"payload_type": "field_control"}


@dataclass
class QueryNextImageRequest(_OtaCommand):
    COMMAND: ClassVar[int] = 0x01
    SERVER_TO_CLIENT: ClassVar[bool] = False
    manufacturer: int = 0
    image_type: int = 0
    file_version: int = 0
    hardware_version: int | None = None

    def _c(self) -> dict:
        d = super()._c()
        d["field_control"] = int(self.hardware_version is not None)
        return d

    @classmethod
    def _from_c(cls, d: dict, data: bytes):
        return cls(d["manufacturer"], d["image_type"], d["file_version"],
                   d["hardware_version"] if d["field_control"] & 1 else None)


@dataclass
class QueryNextImageResponse(_OtaCommand):
    COMMAND: ClassVar[int] = 0x02
    SERVER_TO_CLIENT: ClassVar[bool] = True
    status: int = SUCCESS
    manufacturer: int = 0
    image_type: int = 0
    file_version: int = 0
    image_size: int = 0


@dataclass
class ImageBlockRequest(_OtaCommand):
    COMMAND: ClassVar[int] = 0x03
    SERVER_TO_CLIENT: ClassVar[bool] = False
    manufacturer: int = 0
    image_type: int = 0
    file_version: int = 0
    file_offset: int = 0
    max_data_size: int = 48
    request_node: int | None = None
    min_block_period: int | None = None
    _RENAME: ClassVar[dict] = {"max_data_size": "data_size"}

    def _c(self) -> dict:
        d = super()._c()
        d["field_control"] = int(self.request_node is not None) | int(self.min_block_period is not None) << 1
        return d

    @classmethod
    def _from_c(cls, d: dict, data: bytes):
        fc = d["field_control"]
        return cls(d["manufacturer"], d["image_type"], d["file_version"], d["file_offset"], d["data_size"],
                   d["request_node"] if fc & 1 else None, d["min_block_period"] if fc & 2 else None)


@dataclass
class ImageBlockResponse(_OtaCommand):
    """status SUCCESS: the image id, file_offset and data; WAIT_FOR_DATA: current_time, request_time and
    min_block_period; ABORT: nothing else."""
    COMMAND: ClassVar[int] = 0x05
    SERVER_TO_CLIENT: ClassVar[bool] = True
    status: int = SUCCESS
    manufacturer: int = 0
    image_type: int = 0
    file_version: int = 0
    file_offset: int = 0
    data: bytes = b""
    current_time: int = 0
    request_time: int = 0
    min_block_period: int = 0


@dataclass
class UpgradeEndRequest(_OtaCommand):
    COMMAND: ClassVar[int] = 0x06
    SERVER_TO_CLIENT: ClassVar[bool] = False
    status: int = SUCCESS
    manufacturer: int = 0
    image_type: int = 0
    file_version: int = 0


@dataclass
class UpgradeEndResponse(_OtaCommand):
    COMMAND: ClassVar[int] = 0x07
    SERVER_TO_CLIENT: ClassVar[bool] = True
    manufacturer: int = 0
    image_type: int = 0
    file_version: int = 0
    current_time: int = 0
    upgrade_time: int = 0
    _RENAME: ClassVar[dict] = {"upgrade_time": "request_time"}


OtaCommand = Union[ImageNotify, QueryNextImageRequest, QueryNextImageResponse, ImageBlockRequest,
                   ImageBlockResponse, UpgradeEndRequest, UpgradeEndResponse]
_OTA_BY_ID = {cls.COMMAND: cls for cls in (ImageNotify, QueryNextImageRequest, QueryNextImageResponse,
                                           ImageBlockRequest, ImageBlockResponse, UpgradeEndRequest,
                                           UpgradeEndResponse)}


@dataclass
class Frame:
    """A frame's layers (None: absent) and the bytes after the innermost one. With ``ota`` set, ``zcl`` may
    be left None: a header for that command is made (client-to-server for requests)."""
    mac: MacHeader = field(default_factory=MacHeader)
    nwk: NwkHeader | None = None
    aps: ApsHeader | None = None
    zcl: ZclHeader | None = None
    ota: OtaCommand | None = None
    payload: bytes = b""


@dataclass(frozen=True)
class Keys:
    """Keys a receiver holds (16 bytes each, or None). ``mac_nonce_src``: the sender's EUI-64 for MAC-secured
    frames sent from a short address. ``zigbee_level``: nwkSecurityLevel, put back into the security control
    byte that travels with its level bits zeroed."""
    nwk_key: bytes | None = None
    mac_key: bytes | None = None
    aps_key: bytes | None = None
    mac_nonce_src: int | None = None
    zigbee_level: int = 5


@dataclass
class Parsed:
    """What a receiver made of one PSDU. ``*_security``: "none", "ok", "no-key" (left encrypted) or "bad-mic".
    ``error``: what was malformed (None when well-formed)."""
    frame: Frame
    fcs_ok: bool | None
    mac_security: str
    nwk_security: str
    aps_security: str
    error: str | None = None
    error_offset: int = 0
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return (self.error is None and self.fcs_ok is not False and not self.replayed
                and "bad-mic" not in (self.mac_security, self.nwk_security, self.aps_security))


def _key(key, what: str):
    if key is None:
        return None
    raw = bytes(key)
    if len(raw) != 16:
        raise FrameError(f"the {what} is an AES-128 key, 16 bytes; got {len(raw)}")
    return raw


def _ota_zcl(frame: Frame) -> ZclHeader | None:
    if frame.ota is None:
        return frame.zcl
    zcl = frame.zcl or ZclHeader(server_to_client=frame.ota.SERVER_TO_CLIENT,
                                 disable_default_response=frame.ota.SERVER_TO_CLIENT)
    if zcl.command != frame.ota.COMMAND:
        zcl = replace(zcl, command=frame.ota.COMMAND)
    return zcl


def _layers(frame: Frame):
    zcl = _ota_zcl(frame)
    return (frame.mac._c(), frame.nwk._c() if frame.nwk else None, frame.aps._c() if frame.aps else None,
            zcl._c() if zcl else None, frame.ota._c() if frame.ota is not None else None)


def build(frame: Frame, nwk_key=None, mac_key=None, aps_key=None) -> bytes:
    """The PSDU of ``frame`` (MPDU with its FCS), each secured layer protected with its key."""
    data = frame.ota.data if isinstance(frame.ota, ImageBlockResponse) and frame.ota.status == SUCCESS else b""
    return _c.build(*_layers(frame), bytes(data), bytes(frame.payload), _key(mac_key, "MAC key"),
                    _key(nwk_key, "NWK key"), _key(aps_key, "APS key"))


def _parsed(raw: bytes, parsed, strict: bool) -> Parsed:
    rc, st, (mac, nwk, aps, zcl, ota), data, payload = parsed
    frame = Frame(MacHeader._from_c(mac), NwkHeader._from_c(nwk) if nwk else None,
                  ApsHeader._from_c(aps) if aps else None, ZclHeader._from_c(zcl) if zcl else None,
                  None, payload)
    if ota is not None:
        frame.ota = _OTA_BY_ID[zcl["command"]]._from_c(ota, data)
    result = Parsed(frame, st["fcs_ok"], st["mac_security"], st["nwk_security"], st["aps_security"],
                    st["error"], st["error_offset"])
    if strict:
        if result.error:
            raise FrameError(f"{result.error} (at byte {result.error_offset} of {len(raw)})")
        if result.fcs_ok is False:
            raise FrameError(f"bad FCS (CRC-16/KERMIT) over a {len(raw)}-byte PSDU")
        for layer in ("mac", "nwk", "aps"):
            if getattr(result, f"{layer}_security") == "bad-mic":
                raise InvalidTag(f"{layer.upper()} MIC does not verify")
    return result


def _key_args(keys: Keys) -> tuple:
    return (_key(keys.mac_key, "MAC key"), _key(keys.nwk_key, "NWK key"), _key(keys.aps_key, "APS key"),
            keys.mac_nonce_src, keys.zigbee_level)


def parse(psdu, keys: Keys | None = None, *, fcs: bool = True, strict: bool = True) -> Parsed:
    """Parse a PSDU (with its FCS unless ``fcs=False``), removing each layer's protection that ``keys``
    allow. ``strict``: raise :class:`FrameError` for a malformed frame or a bad FCS and
    :class:`~althan_ota.errors.InvalidTag` for a bad MIC; otherwise return them marked in the result."""
    raw = bytes(psdu)
    return _parsed(raw, _c.parse(raw, fcs, *_key_args(keys or Keys())), strict)


def parse_many(psdus, keys: Keys | None = None, *, fcs: bool = True) -> list[Parsed]:
    """:func:`parse` (``strict=False``) of many PSDUs in one C call, the MAC and NWK CCM* of all of them
    interleaved: what a capture reader or a receiver of many frames wants."""
    raws = [bytes(p) for p in psdus]
    return [_parsed(raw, r, False) for raw, r in zip(raws, _c.parse_many(raws, fcs, *_key_args(keys or Keys())))]


class Receiver:
    """A device's receive path: FCS, MICs, and frame counters that must increase per sender (MAC counters
    per MAC source, NWK and APS counters per security source), as ZigBee and 802.15.4 require."""

    def __init__(self, keys: Keys):
        self.keys = keys
        self._last: dict[tuple, int] = {}

    def receive(self, psdu, *, fcs: bool = True) -> Parsed:
        """Never raises for the frame's content: failures are marked (``Parsed.ok`` False)."""
        return self._check_replay(parse(psdu, self.keys, fcs=fcs, strict=False))

    def receive_many(self, psdus, *, fcs: bool = True) -> list[Parsed]:
        """:meth:`receive` of many frames in their order, parsed in one C call."""
        return [self._check_replay(r) for r in parse_many(psdus, self.keys, fcs=fcs)]

    def _check_replay(self, result: Parsed) -> Parsed:
        if not result.ok:
            return result
        f = result.frame
        counters = []
        if f.mac.security and result.mac_security == "ok":
            counters.append(("mac", f.mac.src_addr, f.mac.frame_counter))
        if f.nwk and f.nwk.security and result.nwk_security == "ok":
            counters.append(("nwk", f.nwk.sec_src, f.nwk.frame_counter))
        if f.aps and f.aps.security and result.aps_security == "ok":
            counters.append(("aps", f.aps.sec_src, f.aps.frame_counter))
        if any(c <= self._last.get((layer, src), -1) for layer, src, c in counters):
            result.replayed = True
            return result
        for layer, src, c in counters:
            self._last[(layer, src)] = c
        return result


def build_image_block_responses(template: Frame, data, offsets, counters, seqs, nwk_keys=None,
                                mac_keys=None, key_index=None):
    """n Image Block Responses in one C call (CCM* of all frames interleaved): frame i is ``template`` with
    ``data[i]`` (an (n, size) uint8 array) at ``offsets[i]``, frame counters ``counters[i]`` and sequence
    numbers ``seqs[i]``. Keys: one 16-byte key, or a (k, 16) table with ``key_index``. Returns
    ``(frames, lengths)``: an (n, 127) uint8 array, each row's PSDU in its first ``lengths[i]`` bytes."""
    if not isinstance(template.ota, ImageBlockResponse) or template.ota.status != SUCCESS:
        raise FrameError("the template must carry an Image Block Response with status SUCCESS")
    data = np.ascontiguousarray(data, dtype=np.uint8)
    if data.ndim != 2:
        raise FrameError(f"data is an (n, size) uint8 array, got {data.ndim} dimension(s)")
    mac, nwk, aps, zcl, ota = _layers(template)
    return _c.build_image_block_responses(
        mac, nwk, aps, zcl, ota, data, np.ascontiguousarray(offsets, dtype=np.uint32),
        np.ascontiguousarray(counters, dtype=np.uint32), np.ascontiguousarray(seqs, dtype=np.uint8),
        _table(mac_keys), _table(nwk_keys), key_index)


def _table(keys):
    if keys is None or isinstance(keys, np.ndarray):
        return keys
    return np.frombuffer(_key(keys, "key"), np.uint8)
