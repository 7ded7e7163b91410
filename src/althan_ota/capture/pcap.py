"""pcap and pcapng files of IEEE 802.15.4 frames (LINKTYPE_IEEE802_15_4_WITHFCS = 195, or
LINKTYPE_IEEE802_15_4_NOFCS = 230 when reading), as Wireshark, tshark and sniffers write them."""

from __future__ import annotations

import struct
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from .._files import replacing
from ..errors import CaptureError

LINKTYPE_IEEE802_15_4_WITHFCS = 195
LINKTYPE_IEEE802_15_4_NOFCS = 230
LINK_TYPES = {LINKTYPE_IEEE802_15_4_WITHFCS: "IEEE802_15_4_WITHFCS", LINKTYPE_IEEE802_15_4_NOFCS: "IEEE802_15_4_NOFCS"}

_PCAP_MAGIC = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6),
               b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
_PCAPNG_SHB = 0x0A0D0D0A
_SNAPLEN = 65535


@dataclass
class Record:
    time: float         # seconds since the epoch
    data: bytes         # the PSDU as captured
    original_length: int

    @property
    def truncated(self) -> bool:
        return len(self.data) < self.original_length


@dataclass
class Capture:
    link_type: int
    records: list[Record]
    problems: list[str] = field(default_factory=list)   # e.g. a last record cut short by the file's end

    @property
    def has_fcs(self) -> bool:
        return self.link_type == LINKTYPE_IEEE802_15_4_WITHFCS


@contextmanager
def _output(target) -> Iterator[BinaryIO]:
    """A file object as it is, or a path written through a temporary file that replaces it when complete."""
    if hasattr(target, "write"):
        yield target
        return
    with replacing(target) as partial, open(partial, "wb") as out:
        yield out


def write_pcap(target, records: Iterable[tuple[float, bytes]], link_type: int = LINKTYPE_IEEE802_15_4_WITHFCS) -> int:
    """Write (time, psdu) records as classic pcap with microsecond timestamps; returns the record count."""
    n = 0
    with _output(target) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, _SNAPLEN, link_type))
        for t, data in records:
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            if usec == 1_000_000:
                sec, usec = sec + 1, 0
            out.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
            out.write(data)
            n += 1
    return n


def _pad4(n: int) -> int:
    return (n + 3) & ~3


def write_pcapng(target, records: Iterable[tuple[float, bytes]], link_type: int = LINKTYPE_IEEE802_15_4_WITHFCS,
                 comment: str = "althan-ota") -> int:
    """Write (time, psdu) records as pcapng: one section, one interface (nanosecond timestamps)."""
    n = 0
    with _output(target) as out:
        text = comment.encode()
        opt = struct.pack("<HH", 4, len(text)) + text + b"\0" * (_pad4(len(text)) - len(text)) + b"\0\0\0\0"
        shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + opt           # shb_userappl
        out.write(struct.pack("<II", _PCAPNG_SHB, 12 + len(shb_body)) + shb_body +
                  struct.pack("<I", 12 + len(shb_body)))
        tsres = struct.pack("<HHB3x", 9, 1, 9) + b"\0\0\0\0"                   # if_tsresol = 10^-9
        idb_body = struct.pack("<HHI", link_type, 0, _SNAPLEN) + tsres
        out.write(struct.pack("<II", 1, 12 + len(idb_body)) + idb_body + struct.pack("<I", 12 + len(idb_body)))
        for t, data in records:
            ns = int(round(t * 1e9))
            body = struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(data), len(data)) + data
            body += b"\0" * (_pad4(len(body)) - len(body))
            out.write(struct.pack("<II", 6, 12 + len(body)) + body + struct.pack("<I", 12 + len(body)))
            n += 1
    return n


def read_capture(source) -> Capture:
    """Read a pcap or pcapng file (path or bytes). Raises :class:`CaptureError` for a file of another kind or
    another link type; a record cut short by the end of the file ends the list and is named in
    ``problems``."""
    raw = bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) else Path(source).read_bytes()
    if len(raw) < 24 and raw[:4] not in _PCAP_MAGIC and raw[:4] != struct.pack("<I", _PCAPNG_SHB):
        raise CaptureError(f"not a pcap or pcapng file: {len(raw)} bytes, too short for a file header")
    if raw[:4] in _PCAP_MAGIC:
        cap = _read_pcap(raw)
    elif raw[:4] == struct.pack("<I", _PCAPNG_SHB):
        cap = _read_pcapng(raw)
    else:
        raise CaptureError(f"not a pcap or pcapng file (magic {raw[:4].hex()})")
    if cap.link_type not in LINK_TYPES:
        raise CaptureError(f"link type {cap.link_type} is not IEEE 802.15.4; expected "
                           f"{LINKTYPE_IEEE802_15_4_WITHFCS} (with FCS) or {LINKTYPE_IEEE802_15_4_NOFCS}")
    return cap


def _read_pcap(raw: bytes) -> Capture:
    endian, unit = _PCAP_MAGIC[raw[:4]]
    if len(raw) < 24:
        raise CaptureError("pcap file header cut short")
    link_type = struct.unpack_from(endian + "I", raw, 20)[0] & 0x0FFFFFFF
    cap = Capture(link_type, [])
    pos = 24
    while pos < len(raw):
        if len(raw) - pos < 16:
            cap.problems.append(f"record {len(cap.records) + 1}: header cut short at byte {pos}")
            break
        sec, frac, incl, orig = struct.unpack_from(endian + "IIII", raw, pos)
        pos += 16
        if incl > _SNAPLEN * 4:
            cap.problems.append(f"record {len(cap.records) + 1}: implausible length {incl} at byte {pos - 16}")
            break
        if len(raw) - pos < incl:
            cap.problems.append(f"record {len(cap.records) + 1}: {incl} bytes announced, the file ends after "
                                f"{len(raw) - pos}")
            break
        cap.records.append(Record(sec + frac * unit, raw[pos:pos + incl], orig))
        pos += incl
    return cap


def _read_pcapng(raw: bytes) -> Capture:
    pos, endian = 0, "<"
    interfaces: list[tuple[int, float]] = []
    records: list[Record] = []
    problems: list[str] = []
    while pos < len(raw):
        if len(raw) - pos < 12:
            problems.append(f"block at byte {pos} cut short")
            break
        btype = struct.unpack_from(endian + "I", raw, pos)[0]
        if btype == _PCAPNG_SHB:
            endian = "<" if raw[pos + 8:pos + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            interfaces = []
        blen = struct.unpack_from(endian + "I", raw, pos + 4)[0]
        if blen < 12 or blen % 4 or pos + blen > len(raw):
            problems.append(f"block at byte {pos}: length {blen} does not fit the file")
            break
        body = raw[pos + 8:pos + blen - 4]
        if btype == 1:                                   # interface description
            link_type = struct.unpack_from(endian + "H", body, 0)[0]
            interfaces.append((link_type, _tsresol(body[8:], endian)))
        elif btype == 6:                                 # enhanced packet
            iface, hi, lo, incl, orig = struct.unpack_from(endian + "IIIII", body, 0)
            if iface >= len(interfaces) or 20 + incl > len(body):
                problems.append(f"packet block at byte {pos}: bad interface or length")
            else:
                records.append(Record(((hi << 32) | lo) * interfaces[iface][1], body[20:20 + incl], orig))
        elif btype == 3 and interfaces:                  # simple packet
            orig = struct.unpack_from(endian + "I", body, 0)[0]
            records.append(Record(0.0, body[4:4 + min(orig, len(body) - 4)], orig))
        pos += blen
    if not interfaces:
        raise CaptureError("pcapng file without an interface description block")
    kinds = {lt for lt, _ in interfaces}
    if len(kinds) > 1:
        raise CaptureError(f"pcapng file mixes link types {sorted(kinds)}")
    return Capture(interfaces[0][0], records, problems)


def _tsresol(options: bytes, endian: str) -> float:
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = options[pos + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        pos += 4 + _pad4(length)
    return 1e-6
