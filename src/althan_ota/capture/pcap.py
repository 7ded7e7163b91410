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
PCAPNG_SECTION_HEADER = 0x0A0D0D0A
_INTERFACE, _SIMPLE_PACKET, _ENHANCED_PACKET = 1, 3, 6
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
        out.write(struct.pack("<II", PCAPNG_SECTION_HEADER, 12 + len(shb_body)) + shb_body +
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
    another link type, or one with no usable interface; a record or block that is cut short or malformed is
    named by its byte offset in ``problems``, and the frames before it are kept."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise CaptureError(f"cannot read {source}: {exc.strerror or exc}") from None
    if len(raw) < 24 and raw[:4] not in _PCAP_MAGIC and raw[:4] != struct.pack("<I", PCAPNG_SECTION_HEADER):
        raise CaptureError(f"not a pcap or pcapng file: {len(raw)} bytes, too short for a file header")
    if raw[:4] in _PCAP_MAGIC:
        cap = _read_pcap(raw)
    elif raw[:4] == struct.pack("<I", PCAPNG_SECTION_HEADER):
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


class _Malformed(Exception):
    """A pcapng block whose framing holds but whose content breaks the format; the message says how."""


_BLOCK_NAMES = {PCAPNG_SECTION_HEADER: "section header", _INTERFACE: "interface description",
                _SIMPLE_PACKET: "simple packet", _ENHANCED_PACKET: "enhanced packet"}
_BYTE_ORDER = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}


def _read_pcapng(raw: bytes) -> Capture:
    """Block by block (pcapng, draft-ietf-opsawg-pcapng): a block whose length does not frame it ends the
    read; a malformed packet block is skipped; a malformed section header or interface description ends the
    read too, since the interface numbers of the packets after it could no longer be trusted."""
    pos, endian = 0, "<"
    interfaces: list[tuple[int, float]] = []
    link_types: set[int] = set()
    records: list[Record] = []
    problems: list[str] = []
    while pos < len(raw):
        if len(raw) - pos < 12:
            problems.append(f"block at byte {pos}: cut short, {len(raw) - pos} bytes left of the 12 a block needs")
            break
        btype = struct.unpack_from(endian + "I", raw, pos)[0]
        if btype == PCAPNG_SECTION_HEADER:
            endian = _BYTE_ORDER.get(raw[pos + 8:pos + 12], endian)
        name = _BLOCK_NAMES.get(btype, f"type 0x{btype:08X}")
        blen = struct.unpack_from(endian + "I", raw, pos + 4)[0]
        if blen < 12 or blen % 4 or blen > len(raw) - pos:
            problems.append(f"{name} block at byte {pos}: length {blen} does not fit the file "
                            f"({len(raw) - pos} bytes left; a block is at least 12 and a multiple of 4)")
            break
        trailing = struct.unpack_from(endian + "I", raw, pos + blen - 4)[0]
        if trailing != blen:
            problems.append(f"{name} block at byte {pos}: length {blen} at its start, {trailing} at its end")
            break
        body = raw[pos + 8:pos + blen - 4]
        try:
            if btype == PCAPNG_SECTION_HEADER:
                _section_header(body)
                interfaces = []                 # interface numbers start again in each section
            elif btype == _INTERFACE:
                interfaces.append(_interface(body, endian))
                link_types.add(interfaces[-1][0])
            elif btype == _ENHANCED_PACKET:
                records.append(_enhanced_packet(body, endian, interfaces))
            elif btype == _SIMPLE_PACKET:
                records.append(_simple_packet(body, endian, interfaces))
        except _Malformed as exc:
            problems.append(f"{name} block at byte {pos}: {exc}")
            if btype in (PCAPNG_SECTION_HEADER, _INTERFACE):
                break
        pos += blen
    if not link_types:
        raise CaptureError("pcapng file without a usable interface description block"
                           + (f": {problems[0]}" if problems else ""))
    if len(link_types) > 1:
        raise CaptureError(f"pcapng file mixes link types {sorted(link_types)}")
    return Capture(next(iter(link_types)), records, problems)


def _section_header(body: bytes) -> None:
    if len(body) < 16:
        raise _Malformed(f"{len(body)} bytes of body, needs 16 (byte-order magic, version, section length)")
    if body[:4] not in _BYTE_ORDER:
        raise _Malformed(f"byte-order magic {body[:4].hex(' ').upper()} is neither 4D 3C 2B 1A nor 1A 2B 3C 4D")


def _interface(body: bytes, endian: str) -> tuple[int, float]:
    if len(body) < 8:
        raise _Malformed(f"{len(body)} bytes of body, needs 8 (link type, reserved, snap length)")
    link_type = struct.unpack_from(endian + "H", body, 0)[0]
    return link_type, _tsresol(body, 8, endian)


def _tsresol(body: bytes, pos: int, endian: str) -> float:
    """The interface's timestamp unit from its if_tsresol option (microseconds when absent); every option
    up to opt_endofopt must fit the block."""
    while pos < len(body):
        if len(body) - pos < 4:
            raise _Malformed(f"option header at body byte {pos} cut short ({len(body) - pos} of 4 bytes)")
        code, length = struct.unpack_from(endian + "HH", body, pos)
        if code == 0:
            break
        if length > len(body) - pos - 4:
            raise _Malformed(f"option {code} at body byte {pos} announces {length} bytes, "
                             f"{len(body) - pos - 4} left in the block")
        if code == 9:
            if length != 1:
                raise _Malformed(f"if_tsresol option at body byte {pos} is {length} bytes, expected 1")
            v = body[pos + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        pos += 4 + _pad4(length)
    return 1e-6


def _enhanced_packet(body: bytes, endian: str, interfaces: list[tuple[int, float]]) -> Record:
    if len(body) < 20:
        raise _Malformed(f"{len(body)} bytes of body, needs 20 before the packet data")
    iface, hi, lo, incl, orig = struct.unpack_from(endian + "IIIII", body, 0)
    if iface >= len(interfaces):
        raise _Malformed(f"interface {iface}, but the section describes {len(interfaces)}")
    if incl > len(body) - 20:
        raise _Malformed(f"captured length {incl}, but the block holds {len(body) - 20} bytes of packet data")
    return Record(((hi << 32) | lo) * interfaces[iface][1], body[20:20 + incl], orig)


def _simple_packet(body: bytes, endian: str, interfaces: list[tuple[int, float]]) -> Record:
    if not interfaces:
        raise _Malformed("no interface described before it")
    if len(body) < 4:
        raise _Malformed(f"{len(body)} bytes of body, needs 4 (original length)")
    orig = struct.unpack_from(endian + "I", body, 0)[0]
    return Record(0.0, body[4:4 + min(orig, len(body) - 4)], orig)
