"""Captures: pcap/pcapng round trips, one OTA download rebuilt from its capture (blocks, gaps, retries,
SHA-256 against hashlib), bad capture files, and Wireshark's tshark (the real program) decoding our
captures with the keys: no malformed, bad-FCS or undecrypted frames, OTA fields and decrypted data as sent."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from althan_ota import capture as C
from althan_ota import frames as F
from althan_ota.errors import CaptureError, ParameterError

NWK_KEY = bytes.fromhex("5a6967426565416c6c69616e63653039")
MAC_KEY = bytes.fromhex("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf")
IMAGE = bytes((i * 37 + 11) % 251 for i in range(3000))


def session(**kw):
    kw.setdefault("nwk_key", NWK_KEY)
    return C.ota_session(IMAGE, **kw)


def write(tmp_path: Path, frames, name="s.pcap", writer=C.write_pcap) -> Path:
    path = tmp_path / name
    writer(path, [(c.time, c.psdu) for c in frames])
    return path


@pytest.mark.parametrize("writer", [C.write_pcap, C.write_pcapng])
def test_pcap_round_trip(writer):
    records = [(1_763_000_000.25 + i * 0.0125, bytes([i]) * (5 + i)) for i in range(20)]
    buf = io.BytesIO()
    assert writer(buf, records) == 20
    cap = C.read_capture(buf.getvalue())
    assert cap.link_type == C.LINKTYPE_IEEE802_15_4_WITHFCS and not cap.problems
    assert [r.data for r in cap.records] == [d for _, d in records]
    assert all(abs(r.time - t) < 2e-6 for r, (t, _) in zip(cap.records, records))


def test_download_rebuilt_from_its_capture(tmp_path):
    frames = session(per=0.15, seed=7, config=C.SessionConfig(wait_for_data=2))
    report = C.read_transfers(write(tmp_path, frames), F.Keys(nwk_key=NWK_KEY))
    assert report.frames == len(frames) and not report.issues
    (t,) = report.transfers
    assert t.complete and t.image() == IMAGE and t.sha256 == hashlib.sha256(IMAGE).hexdigest()
    assert t.image_size == len(IMAGE) and t.upgrade_end_status == 0 and t.waits == 2
    assert [off for off, _ in t.blocks] == list(range(0, len(IMAGE), t.blocks[0][1]))
    # losses made the client re-request: repeated offsets served again, counted as retries
    lost_blocks = sum(1 for c in frames if c.command == "ImageBlockResponse" and not c.delivered
                      and F.parse(c.psdu, F.Keys(nwk_key=NWK_KEY)).frame.ota.status == F.SUCCESS)
    assert t.retries == len(t.retried_offsets) == lost_blocks > 0   # each lost block is served again
    assert t.requests > len(t.blocks)


def test_counters_only_increase_across_retries():
    frames = session(per=0.3, seed=3)
    last: dict[str, int] = {}
    for c in frames:
        p = F.parse(c.psdu, F.Keys(nwk_key=NWK_KEY))
        assert p.frame.nwk.frame_counter > last.get(c.sender, -1)
        last[c.sender] = p.frame.nwk.frame_counter
    assert any(not c.delivered for c in frames)


def test_seeded_sessions_repeat():
    a, b = session(per=0.2, seed=11), session(per=0.2, seed=11)
    assert [(c.time, c.psdu) for c in a] == [(c.time, c.psdu) for c in b]
    assert [c.psdu for c in session(per=0.2, seed=12)] != [c.psdu for c in a]


def test_sniffer_losses_show_as_gaps(tmp_path):
    frames = session(per=0.0, sniffer_loss=0.2, seed=5)
    (t,) = C.read_transfers(write(tmp_path, frames), F.Keys(nwk_key=NWK_KEY)).transfers
    assert t.gaps and not t.complete and t.sha256 is None
    covered = sum(n for _, n in t.blocks) + sum(b - a for a, b in t.gaps)
    assert covered == len(IMAGE)


def test_bridge_link_capture(tmp_path):
    frames = session(mac_key=MAC_KEY, link="bridge", per=0.1, seed=2)
    report = C.read_transfers(write(tmp_path, frames, "b.pcapng", C.write_pcapng),
                              F.Keys(nwk_key=NWK_KEY, mac_key=MAC_KEY))
    (t,) = report.transfers
    assert t.complete and t.sha256 == hashlib.sha256(IMAGE).hexdigest()
    assert max(len(c.psdu) for c in frames) <= F.MAX_PSDU


def test_bad_captures(tmp_path):
    frames = session()
    path = write(tmp_path, frames)
    raw = path.read_bytes()
    cut = C.read_capture(raw[:-10])
    assert len(cut.records) == len(frames) - 1 and "file ends" in cut.problems[0]
    report = C.read_transfers(raw[:-10], F.Keys(nwk_key=NWK_KEY))
    assert "file ends" in report.problems[0] and report.frames == len(frames) - 1
    with pytest.raises(CaptureError, match="link type 1 is not IEEE 802.15.4"):
        C.read_capture(raw[:20] + (1).to_bytes(4, "little") + raw[24:])
    with pytest.raises(CaptureError, match="not a pcap"):
        C.read_capture(b"GIF89a" + bytes(100))
    with pytest.raises(CaptureError):
        C.read_capture(b"")
    wrong = C.read_transfers(raw, F.Keys(nwk_key=bytes(16)))
    assert len(wrong.issues) == len(frames) and not wrong.transfers
    assert all("bad NWK MIC" in i.reason for i in wrong.issues)
    nokey = C.read_transfers(raw, F.Keys())
    assert nokey.undecrypted == len(frames) and not nokey.issues
    corrupted = bytearray(raw)
    corrupted[24 + 16 + 20] ^= 0xFF        # inside the first frame
    marked = C.read_transfers(bytes(corrupted), F.Keys(nwk_key=NWK_KEY))
    assert [(i.index, i.reason) for i in marked.issues] == [(1, "bad FCS")]


def test_session_parameters_checked():
    with pytest.raises(ParameterError, match="bridge"):
        C.ota_session(IMAGE, nwk_key=NWK_KEY, link="bridge")
    with pytest.raises(ParameterError, match="block_size"):
        C.ota_session(IMAGE, nwk_key=NWK_KEY, config=C.SessionConfig(block_size=100))
    with pytest.raises(ParameterError, match="per"):
        C.ota_session(IMAGE, nwk_key=NWK_KEY, per=1.0)


# --- Wireshark ---------------------------------------------------------------------------------------

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (.ci/run installs it)")

FIELDS = ["frame.number", "wpan.fcs_ok", "_ws.malformed", "_ws.expert.message",
          "zbee_zcl_general.ota.cmd.srv_tx.id", "zbee_zcl_general.ota.cmd.srv_rx.id",
          "zbee_zcl_general.ota.status", "zbee_zcl_general.ota.file.offset", "zbee_zcl_general.ota.data_size",
          "zbee_zcl_general.ota.image.data", "zbee_nwk.seqno", "zbee.sec.counter"]


def tshark(path: Path, *options: str) -> list[dict]:
    cmd = [TSHARK, "-r", str(path), "-o", f'uat:zigbee_pc_keys:"{NWK_KEY.hex()}","Normal","althan-ota NWK key"',
           *options, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=;"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [dict(zip(FIELDS, line.split("|"))) for line in out.splitlines()]


def check_decoded(rows: list[dict], frames: list[C.Captured]) -> None:
    assert len(rows) == len(frames)
    for row, c in zip(rows, frames):
        ours = F.parse(c.psdu, F.Keys(nwk_key=NWK_KEY, mac_key=MAC_KEY)).frame
        where = f"frame {row['frame.number']} ({c.command})"
        assert row["wpan.fcs_ok"] == "1", where
        assert row["_ws.malformed"] == "" and row["_ws.expert.message"] == "", f"{where}: {row}"
        command = row["zbee_zcl_general.ota.cmd.srv_tx.id"] or row["zbee_zcl_general.ota.cmd.srv_rx.id"]
        assert int(command, 16) == ours.ota.COMMAND, where
        assert int(row["zbee_nwk.seqno"]) == ours.nwk.seq, where
        assert int(row["zbee.sec.counter"].split(";")[0]) == ours.nwk.frame_counter, where
        if isinstance(ours.ota, F.ImageBlockResponse):
            assert int(row["zbee_zcl_general.ota.status"], 16) == ours.ota.status, where
            if ours.ota.status == F.SUCCESS:
                assert int(row["zbee_zcl_general.ota.file.offset"]) == ours.ota.file_offset, where
                assert int(row["zbee_zcl_general.ota.data_size"]) == len(ours.ota.data), where
                data = bytes.fromhex(row["zbee_zcl_general.ota.image.data"].replace(":", ""))
                assert data == ours.ota.data, where
        elif isinstance(ours.ota, F.ImageBlockRequest):
            assert int(row["zbee_zcl_general.ota.file.offset"]) == ours.ota.file_offset, where


@needs_tshark
def test_tshark_decodes_han_capture(tmp_path):
    frames = session(per=0.1, seed=1, config=C.SessionConfig(wait_for_data=1))
    check_decoded(tshark(write(tmp_path, frames)), frames)


@needs_tshark
def test_tshark_decodes_bridge_capture(tmp_path):
    frames = session(mac_key=MAC_KEY, link="bridge", per=0.1, seed=4)
    cfg = C.SessionConfig()
    path = write(tmp_path, frames, "b.pcapng", C.write_pcapng)
    rows = tshark(path, "-d", f"wpan.panid==0x{cfg.bridge_pan:04x},zbee_nwk",
                  "-o", f'uat:ieee802154_keys:"{MAC_KEY.hex()}","1","No hash"')
    check_decoded(rows, frames)


@needs_tshark
def test_tshark_without_the_key_decrypts_nothing(tmp_path):
    frames = session()
    cmd = [TSHARK, "-r", str(write(tmp_path, frames)), "-T", "fields", "-e", "zbee_zcl_general.ota.file.offset",
           "-e", "wpan.fcs_ok"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
    assert len(out) == len(frames) and all(line == "\t1" for line in out)


def test_cli_writes_and_reads_back(tmp_path, capsys):
    from althan_ota.cli import main
    image = tmp_path / "image.ota"
    image.write_bytes(IMAGE)
    out = tmp_path / "c.pcap"
    assert main(["capture", "--image", str(image), "--out", str(out), "--per", "0.2", "--seed", "9"]) == 0
    assert "tshark -r" in capsys.readouterr().out
    assert main(["capture", "read", str(out), "--nwk-key", C_KEY_HEX, "--json"]) == 0
    import json
    report = json.loads(capsys.readouterr().out)
    (t,) = report["transfers"]
    assert t["complete"] and t["sha256"] == hashlib.sha256(IMAGE).hexdigest() and t["retries"] > 0
    assert main(["capture", "read", str(out)]) == 1           # no key: nothing rebuilt
    assert "left encrypted" in capsys.readouterr().out
    assert main(["capture", "read", str(image)]) == 1          # not a capture: a clear error
    assert "CaptureError: not a pcap" in capsys.readouterr().err
    assert main(["capture", "read", str(out), "--nwk-key", "abcd"]) == 1
    assert "16 bytes" in capsys.readouterr().err


C_KEY_HEX = "5a6967426565416c6c69616e63653039"   # the CLI's default NWK key for emulated captures


@needs_tshark
def test_tshark_decrypts_aps_security(tmp_path):
    """APS security (link key) inside NWK security: tshark, given both keys, decrypts both layers."""
    link_key = bytes(range(100, 116))
    frame = F.Frame(F.MacHeader(dst_pan=0x1A62, dst_addr=0x4C2E), F.NwkHeader(dst=0x4C2E, src_ieee=0x00124B0000C0FFEE),
                    F.ApsHeader(security=True, frame_counter=321, sec_src=0x00124B0000C0FFEE), None,
                    F.ImageBlockResponse(file_offset=4096, data=bytes(range(24))))
    path = tmp_path / "aps.pcap"
    C.write_pcap(path, [(0.0, F.build(frame, nwk_key=NWK_KEY, aps_key=link_key))])
    out = subprocess.run(
        [TSHARK, "-r", str(path), "-o", f'uat:zigbee_pc_keys:"{NWK_KEY.hex()}","Normal","nwk"',
         "-o", f'uat:zigbee_pc_keys:"{link_key.hex()}","Normal","link"', "-T", "fields",
         "-e", "zbee_zcl_general.ota.file.offset", "-e", "zbee_zcl_general.ota.image.data", "-e", "_ws.expert.message"],
        check=True, capture_output=True, text=True).stdout
    offset, data, expert = out.rstrip("\n").split("\t")
    assert offset == "4096" and bytes.fromhex(data.replace(":", "")) == bytes(range(24)) and expert == ""


EDITCAP = shutil.which("editcap")


@pytest.mark.skipif(EDITCAP is None, reason="editcap (Wireshark) is not installed")
@pytest.mark.parametrize("fmt", ["pcapng", "nsecpcap", "pcap"])
def test_reads_what_wireshark_writes(tmp_path, fmt):
    """Our pcap rewritten by Wireshark's editcap (pcapng, nanosecond pcap) reads back to the same frames;
    Wireshark's reading of our pcapng is checked by converting it back."""
    frames = session(per=0.1, seed=8)
    ours = write(tmp_path, frames, "ours.pcapng", C.write_pcapng)
    theirs = tmp_path / f"theirs.{fmt}"
    subprocess.run([EDITCAP, "-F", fmt, str(ours), str(theirs)], check=True, capture_output=True)
    cap = C.read_capture(theirs)
    assert [r.data for r in cap.records] == [c.psdu for c in frames] and not cap.problems
    assert all(abs(r.time - c.time) < 1e-6 for r, c in zip(cap.records, frames))
    (t,) = C.read_transfers(cap, F.Keys(nwk_key=NWK_KEY)).transfers
    assert t.sha256 == hashlib.sha256(IMAGE).hexdigest()


def test_interrupted_capture_keeps_the_previous_file(tmp_path):
    from althan_ota.capture.pcap import write_pcap, write_pcapng

    for write in (write_pcap, write_pcapng):
        path = tmp_path / f"old.{write.__name__}"
        write(path, [(1.0, b"\x01\x02\x03")])
        before = path.read_bytes()

        def records():
            yield 2.0, b"\x04\x05"
            raise KeyboardInterrupt     # Ctrl-C while frames are still being built

        with pytest.raises(KeyboardInterrupt):
            write(path, records())
        assert path.read_bytes() == before
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []
