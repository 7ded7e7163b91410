"""Hostile and damaged capture files (issue 20, item 3): crafted pcapng blocks, and fuzzing of the pcap and
pcapng readers. Whatever the bytes, reading gives a Capture (the frames before a damaged block, each damaged
block named by its file offset in ``problems``) or a CaptureError — never another exception.

Frames are written by our writers and cross-checked with scapy's pcap/pcapng readers (an independent
implementation) on the undamaged files."""

from __future__ import annotations

import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from althan_ota import capture as C
from althan_ota.capture.pcap import LINK_TYPES, PCAPNG_SECTION_HEADER
from althan_ota.errors import CaptureError

RECORDS = [(1_763_000_000.0 + i * 0.5, bytes([0x41, 0x88, i]) + bytes(range(i % 9))) for i in range(3)]


def pcapng(records=RECORDS) -> bytes:
    out = []
    C.write_pcapng(_Sink(out), records)
    return b"".join(out)


def pcap(records=RECORDS) -> bytes:
    out = []
    C.write_pcap(_Sink(out), records)
    return b"".join(out)


class _Sink:
    def __init__(self, parts: list):
        self.write = parts.append


def block(btype: int, body: bytes, length: int | None = None) -> bytes:
    length = 12 + len(body) if length is None else length
    return struct.pack("<II", btype, length) + body + struct.pack("<I", length)


def epb(data: bytes, interface: int = 0) -> bytes:
    body = struct.pack("<IIIII", interface, 0, 1000, len(data), len(data)) + data
    return block(6, body + b"\0" * (-len(body) % 4))


IDB_TSRESOL_CUT = struct.pack("<HHI", C.LINKTYPE_IEEE802_15_4_WITHFCS, 0, 65535) + struct.pack("<HH", 9, 1)
CRAFTED = {
    "12-byte EPB": block(6, b""),
    "12-byte SPB": block(3, b""),
    "12-byte IDB": block(1, b""),
    "IDB with if_tsresol cut short": block(1, IDB_TSRESOL_CUT),
    "EPB shorter than its captured length": block(6, struct.pack("<IIIII", 0, 0, 0, 200, 200) + b"abcd"),
    "EPB of an interface never described": epb(b"\x01\x02\x03", interface=7),
    "block length not a multiple of 4": block(3, b"\x05\x00\x00"),
    "trailing length differs": struct.pack("<II", 6, 32) + bytes(20) + struct.pack("<I", 36),
    "IDB option running past the block": block(1, IDB_TSRESOL_CUT[:8] + struct.pack("<HH", 2, 40) + b"abcd"),
    "section header of 12 bytes": block(PCAPNG_SECTION_HEADER, b""),
    "section header with a bad byte-order magic": block(PCAPNG_SECTION_HEADER, b"\x01\x02\x03\x04" + bytes(12)),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_block_is_named_and_the_frames_before_it_read(name):
    good = pcapng()
    cap = C.read_capture(good + CRAFTED[name] + epb(b"\x41\x88\x99"))
    assert [r.data for r in cap.records[:len(RECORDS)]] == [d for _, d in RECORDS]
    assert cap.problems and f"block at byte {len(good)}" in cap.problems[0], cap.problems


@pytest.mark.parametrize("name", ["12-byte IDB", "IDB with if_tsresol cut short"])
def test_only_interface_description_malformed_is_an_error_naming_its_offset(name):
    good = pcapng([])
    shb_length = struct.unpack_from("<I", good, 4)[0]
    with pytest.raises(CaptureError, match=f"block at byte {shb_length}"):
        C.read_capture(good[:shb_length] + CRAFTED[name] + epb(b"\x41\x88\x01"))


def test_capture_read_command_reports_the_damaged_block(tmp_path, capsys):
    from althan_ota.cli import main

    path = tmp_path / "crafted.pcapng"
    good = pcapng()
    path.write_bytes(good + CRAFTED["12-byte EPB"])
    main(["capture", "read", str(path), "--json"])     # exit status 1: no complete transfer in these frames
    out = capsys.readouterr().out
    assert f"block at byte {len(good)}" in out and '"frames": 3' in out


def test_a_capture_file_that_is_not_there_is_a_capture_error(tmp_path):
    with pytest.raises(CaptureError, match="missing.pcap"):
        C.read_capture(tmp_path / "missing.pcap")


# --- fuzzing: the readers against random and mutated files --------------------------------------------------

def _read_or_refuse(data: bytes):
    try:
        cap = C.read_capture(data)
    except CaptureError:
        return None
    assert cap.link_type in LINK_TYPES
    for record in cap.records:
        assert isinstance(record.data, bytes) and record.original_length >= 0
    return cap


def _scapy_frames(data: bytes) -> list[bytes]:
    import io

    from scapy.utils import PcapReader, PcapNgReader

    reader = (PcapNgReader if data[:4] == b"\x0a\x0d\x0d\x0a" else PcapReader)(io.BytesIO(data))
    return [bytes(p) for p in reader]


@pytest.mark.parametrize("writer", [pcap, pcapng])
def test_undamaged_files_read_as_scapy_reads_them(writer):
    records = [(1_700_000_000 + i / 7, bytes((i * 13 + j) % 256 for j in range(i % 127))) for i in range(60)]
    data = writer(records)
    cap = C.read_capture(data)
    assert not cap.problems
    assert [r.data for r in cap.records] == _scapy_frames(data) == [d for _, d in records]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_random_bytes(data):
    _read_or_refuse(data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"\x0a\x0d\x0d\x0a", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\x3c\x4d"]), st.binary(max_size=300))
def test_fuzz_behind_a_valid_magic(magic, tail):
    _read_or_refuse(magic + tail)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["pcap", "pcapng"]),
       st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), min_size=1, max_size=8))
def test_fuzz_byte_substitutions(kind, edits):
    data = bytearray(pcap() if kind == "pcap" else pcapng())
    for at, value in edits:
        data[at % len(data)] = value
    _read_or_refuse(bytes(data))


@pytest.mark.parametrize("kind", ["pcap", "pcapng"])
def test_every_truncation_keeps_the_whole_frames_before_it(kind):
    data = pcap() if kind == "pcap" else pcapng()
    whole = C.read_capture(data).records
    for n in range(len(data)):
        cap = _read_or_refuse(data[:n])
        if cap is not None:
            assert [r.data for r in cap.records] == [r.data for r in whole[:len(cap.records)]]


@pytest.mark.parametrize("seed", range(4))
def test_seeded_corpus_of_spliced_blocks(seed):
    """Valid blocks and crafted ones spliced in random order: still a Capture or a CaptureError."""
    rng = random.Random(seed)
    pieces = list(CRAFTED.values()) + [epb(bytes(rng.randrange(256) for _ in range(rng.randrange(40))))
                                       for _ in range(6)]
    head = pcapng([])
    for _ in range(200):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 6)))
        _read_or_refuse(head + body)
