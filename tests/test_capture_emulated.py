"""Chosen installations' emulated traffic as a capture: the real tshark decodes it with the devices' keys (bad
FCS exactly where CRC-16/KERMIT says so), our reader rebuilds each device's image (SHA-256 against hashlib),
every frame sits at its exchange's time in an independently traced emulation (block period, response timeout),
the bridges' requests pair with the responses, the same seed gives the same file, and fleet IDs map to the
campaign's unit keys."""

from __future__ import annotations

import hashlib
import math
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from althan_ota import capture as C
from althan_ota import frames as F
from althan_ota.checksum import crc
from althan_ota.emulate import BridgeLink, EmulationParams, HanLink, emulate
from althan_ota.emulate.bytes import device_key
from althan_ota.emulate.trace import KINDS
from althan_ota.errors import CaptureError, ParameterError

# very lossy links, so repeated exchanges (corrupted frames) show up, and with this seed installations 6 and
# 23 each have a completed (hub-side) and an aborted (meter-side) download
LOSSY = EmulationParams(han=HanLink(per=0.6), bridge=BridgeLink(per=0.7, duty_cycle=1.0), deadline_s=30 * 86400.0)
INSTALLATIONS = [6, 23]
SEED = 3


@pytest.fixture(scope="module")
def image() -> bytes:
    return np.random.default_rng(9).integers(0, 256, 4_000, dtype=np.uint8).tobytes()


@pytest.fixture(scope="module")
def emulated(image):
    return C.emulated_capture(image, INSTALLATIONS, seed=SEED, params=LOSSY)


@pytest.fixture(scope="module")
def pcap(emulated, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("emulated") / "two.pcap"
    C.write_pcap(path, [(f.time, f.psdu) for f in emulated[0]])
    return path


def fcs_ok(psdu: bytes) -> bool:
    return crc(psdu[:-2], "CRC-16/KERMIT") == int.from_bytes(psdu[-2:], "little")


def test_the_installations_devices_and_keys(emulated, image):
    frames, devices = emulated
    assert [(d.unit_key, d.side) for d in devices] == [(k, s) for k in INSTALLATIONS
                                                        for s in ("hub_side", "meter_side")]
    for d in devices:
        assert d.nwk_key == device_key(SEED, d.unit_key, 0 if d.side == "hub_side" else 1)
    assert len({d.nwk_key for d in devices}) == 4
    result = traced(image)
    counts = np.bincount([f.device for f in frames if f.command == "ImageBlockResponse"], minlength=4)
    waits = [int(np.count_nonzero((r["kind"] == WAIT) & r["answered"])) for r in map(result.trace.device, range(4))]
    assert counts.tolist() == [int(on_air(result.trace.device(row)).sum()) + waits[row] for row in range(4)]
    assert all(counts) and all(on_air(result.trace.device(row)).sum() < d.frames for row, d in enumerate(devices))
    sent = np.bincount([f.device for f in frames if f.sender == "client"], minlength=4)
    # a request per exchange but the CH's notifies; the notify and the query come first
    asked = [int(np.count_nonzero(result.trace.device(row)["kind"] != NOTIFY)) for row in range(4)]
    assert sent.tolist() == [d.requests for d in devices] == asked
    for row in range(4):
        own = [f.command for f in frames if f.device == row]
        first_query = own.index("QueryNextImageRequest")
        assert own[0] == "ImageNotify" and set(own[:first_query]) == {"ImageNotify"}
        assert "QueryNextImageResponse" in own and own.index("QueryNextImageResponse") < own.index("ImageBlockRequest")
    assert all(f.sender == ("server" if f.command.endswith("Response") or f.command == "ImageNotify" else "client")
               for f in frames)
    assert any(f.corrupted for f in frames) and not any(f.corrupted for f in frames if f.sender == "client")
    assert any(d.hash_ok for d in devices)


def traced(image):
    """The same emulation run again, traced; the untraced run gives the same results (tracing changes nothing)."""
    kw = dict(params=LOSSY, seed=SEED, fidelity="bytes", image=image, installation_keys=INSTALLATIONS)
    plain, result = emulate(len(INSTALLATIONS), **kw), emulate(len(INSTALLATIONS), trace=True, **kw)
    assert plain.to_arrow().equals(result.to_arrow())
    return result


EPS = 1e-6     # capture times are seconds since the epoch: float64 keeps about 0.2 us of them


def responses(frames, row):
    return [f for f in frames if f.device == row and f.command == "ImageBlockResponse"]


NOTIFY, WAIT, UPGRADE_END = KINDS.index("image_notify"), KINDS.index("wait_for_data"), KINDS.index("upgrade_end")
DATA = [KINDS.index(k) for k in ("block", "last_block", "upgrade_end")]


def carried(rec):
    """The exchanges the byte pass sent a frame for (device_frames order): data exchanges but the delivered
    Upgrade End."""
    return rec[np.isin(rec["kind"], DATA) & ~((rec["kind"] == UPGRADE_END) & (rec["result"] == 1))]


def on_air(rec):
    """Which of the byte pass's frames the capture keeps: the responses the CH sent, block responses only (a
    request that never reached the CH got none; a lost Upgrade End exchange shows its Upgrade End Response)."""
    c = carried(rec)
    return c["answered"] & (c["kind"] != UPGRADE_END)


def same_content(ours: bytes, theirs: bytes, key: bytes) -> bool:
    """Two intact Image Block Responses carry the same command (their counters and sequence numbers aside)."""
    a, b = (F.parse(p, F.Keys(nwk_key=key)).frame for p in (ours, theirs))
    return a.ota == b.ota and a.nwk.sec_src == b.nwk.sec_src and (a.mac.dst_addr, a.nwk.dst) == (b.mac.dst_addr,
                                                                                                    b.nwk.dst)


def test_frames_are_the_emulators(emulated, image):
    """Each device's data responses are device_frames() of the same emulation, in exchange order (the intact
    ones re-secured with the CH's counter over the whole command set, the corrupted ones byte for byte); each
    request asks for the offset its response carries, with the same ZCL sequence number (the exchange's)."""
    frames, devices = emulated
    result = traced(image)
    for row, d in enumerate(devices):
        mine = [f for f in responses(frames, row) if not is_wait(f, d)]
        sent, corrupted, offsets = result.device_frames(row, 0, d.frames + 1, offsets=True)
        kept = on_air(result.trace.device(row))
        sent = [p for p, keep in zip(sent, kept) if keep]
        assert len(mine) == len(sent) and [f.corrupted for f in mine] == corrupted[kept].astype(bool).tolist()
        for f, theirs in zip(mine, sent):
            assert f.psdu == theirs if f.corrupted else same_content(f.psdu, theirs, d.nwk_key)
        keys = F.Keys(nwk_key=d.nwk_key)
        own = [f for f in frames if f.device == row]
        data_asked = [F.parse(f.psdu, keys).frame for f in own if f.sender == "client"
                      and f.command in ("ImageBlockRequest", "UpgradeEndRequest")]
        answered = [F.parse(f.psdu, keys).frame for f in own if f.command == "ImageBlockResponse" and not f.corrupted]
        seq_offset = {a.zcl.seq: a.ota.file_offset for a in data_asked if isinstance(a.ota, F.ImageBlockRequest)}
        assert all(seq_offset[r.zcl.seq] == r.ota.file_offset for r in answered if r.ota.status == F.SUCCESS)
        assert set(seq_offset.values()) <= {int(o) for o in offsets}
        asked = [F.parse(f.psdu, keys).frame for f in own if f.sender == "client"]
        exchange = np.flatnonzero(result.trace.device(row)["kind"] != NOTIFY)
        assert [a.zcl.seq for a in asked] == [int(k) & 0xFF for k in exchange]
        assert [a.nwk.frame_counter for a in asked] == list(range(1, len(asked) + 1))
        assert all(a.nwk.src == d.client and a.nwk.dst == 0 for a in asked)
        # the CH's frames to the device count one NWK frame counter through the whole command set
        told = [F.parse(f.psdu, keys).frame for f in own if f.sender == "server" and not f.corrupted]
        counters = [t.nwk.frame_counter for t in told]
        assert counters == sorted(set(counters)) and counters[0] == 1
        if d.outcome == "completed":
            assert [f.command for f in own[-2:]] == ["UpgradeEndRequest", "UpgradeEndResponse"]
            end = F.parse(own[-1].psdu, keys).frame
            assert end.nwk.frame_counter == sum(f.sender == "server" for f in own) and \
                end.zcl.seq == asked[-1].zcl.seq


def is_wait(f, d) -> bool:
    return not f.corrupted and F.parse(f.psdu, F.Keys(nwk_key=d.nwk_key)).frame.ota.status == F.WAIT_FOR_DATA



def test_timestamps_are_the_traced_exchanges(emulated, pcap, image):
    frames, devices = emulated
    result = traced(image)
    ota = LOSSY.ota
    start = C.SessionConfig.start
    times = np.array([f.time for f in frames])
    assert np.all(np.diff(times) >= 0)
    for row, d in enumerate(devices):
        rec = result.trace.device(row)
        own = [f for f in frames if f.device == row]
        t_all = np.array([f.time for f in own])
        assert np.all(np.diff(t_all) >= 0)
        # every request at its exchange's request time, every notify when the CH sent it
        t_req = np.array([f.time for f in own if f.sender == "client"])
        assert np.array_equal(t_req, start + rec["t_request"][rec["kind"] != NOTIFY])
        t_notify = np.array([f.time for f in own if f.command == "ImageNotify"])
        assert np.array_equal(t_notify, start + rec["t_request"][rec["kind"] == NOTIFY])
        # responses: strictly increasing, within the download
        mine = [f for f in responses(frames, row) if not is_wait(f, d)]
        t = np.array([f.time for f in mine]) - start
        sent = carried(rec)[on_air(rec)]
        assert len(t) == len(sent) and np.all(np.diff(t) > 0)
        assert t[0] >= d.t_download_start - EPS
        assert np.all(t <= d.t_download_end + EPS)
        if d.outcome == "completed":
            assert t[-1] == pytest.approx(d.t_download_end, abs=EPS)
        # a delivered response when it arrived; a lost one when its last attempt ended, before the client's
        # response timeout (whose re-request comes after it)
        delivered = sent["result"] == 1
        assert np.allclose(t[delivered], sent["t_response"][delivered], rtol=0, atol=EPS)
        lost = sent["result"] == 0
        assert lost.any()
        assert np.allclose(t[lost], sent["t_attempts_end"][lost], rtol=0, atol=EPS)
        assert np.all(t[lost] < sent["t_request"][lost] + ota.response_timeout_s)
        assert np.all(sent["t_response"][lost] >= sent["t_request"][lost] + ota.response_timeout_s - EPS)
    on_file = [r.time for r in C.read_capture(pcap).records]
    assert len(on_file) == len(frames) and np.all(np.diff(on_file) >= 0)
    assert np.allclose(on_file, times, atol=1e-6)


def test_responses_only(image, emulated):
    frames, devices = C.emulated_capture(image, INSTALLATIONS, seed=SEED, params=LOSSY, requests=False)
    assert frames == [f for f in emulated[0] if f.command == "ImageBlockResponse"]
    assert all(d.requests == 0 for d in devices)


def test_same_seed_same_capture(emulated, image, pcap, tmp_path):
    again = C.emulated_capture(image, INSTALLATIONS, seed=SEED, params=LOSSY)
    path = tmp_path / "again.pcap"
    C.write_pcap(path, [(f.time, f.psdu) for f in again[0]])
    assert path.read_bytes() == pcap.read_bytes() and again[1] == emulated[1]
    other = C.emulated_capture(image, INSTALLATIONS, seed=SEED + 1, params=LOSSY)
    assert [d.nwk_key for d in other[1]] != [d.nwk_key for d in emulated[1]]


def test_reader_rebuilds_each_device(emulated, pcap, image):
    frames, devices = emulated
    report = C.read_transfers(pcap, [F.Keys(nwk_key=d.nwk_key) for d in devices], image_size=len(image))
    assert report.undecrypted == 0
    # every corrupted frame is refused (bad FCS, or a MIC no key passes), nothing else is
    assert [i.index for i in report.issues] == [k + 1 for k, f in enumerate(frames) if f.corrupted]
    by_network = {t.network: t for t in report.transfers}
    assert len(by_network) == len(report.transfers)
    for row, d in enumerate(devices):
        t = by_network[row]
        assert t.client == d.client
        assert t.requests == sum(f.device == row and f.command == "ImageBlockRequest" for f in frames)
        assert t.upgrade_end_status == (F.SUCCESS if d.outcome == "completed" else None)
        if d.hash_ok:
            assert t.complete and t.sha256 == hashlib.sha256(image).hexdigest() and t.image() == image
        else:
            assert not t.complete and t.gaps
    assert not all(d.hash_ok for d in devices), "the test wants an aborted download too"


def test_reader_with_one_key_takes_only_its_device(emulated, pcap, image):
    frames, devices = emulated
    report = C.read_transfers(pcap, F.Keys(nwk_key=devices[1].nwk_key), image_size=len(image))
    (t,) = report.transfers
    assert t.client == devices[1].client and t.responses == sum(
        f.device == 1 and f.command == "ImageBlockResponse" and not f.corrupted for f in frames)


# --- Wireshark ---------------------------------------------------------------------------------------

TSHARK = shutil.which("tshark")
FIELDS = ["frame.number", "wpan.fcs_ok", "_ws.malformed", "_ws.expert.message", "wpan.dst16",
          "zbee.sec.counter", "zbee_zcl_general.ota.status", "zbee_zcl_general.ota.file.offset",
          "zbee_zcl_general.ota.image.data", "_ws.col.Info"]


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (.ci/run installs it)")
def test_tshark_decodes_the_capture(emulated, pcap, image):
    frames, devices = emulated
    cmd = [TSHARK, "-r", str(pcap)]
    for d in devices:
        cmd += ["-o", f'uat:zigbee_pc_keys:"{d.nwk_key.hex()}","Normal","{d.installation} {d.side}"']
    cmd += ["-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=;"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [dict(zip(FIELDS, line.split("|"))) for line in out.splitlines()]
    assert len(rows) == len(frames)
    bad_fcs = unparsed = 0
    for row, f in zip(rows, frames):
        where = f"frame {row['frame.number']} (device {f.device})"
        if f.corrupted:
            if row["wpan.fcs_ok"] == "" and row["_ws.malformed"] + row["_ws.expert.message"]:
                unparsed += 1       # a bit error in the MAC header: refused as malformed before the FCS
            else:
                assert row["wpan.fcs_ok"] == ("1" if fcs_ok(f.psdu) else "0"), where
                bad_fcs += row["wpan.fcs_ok"] == "0"
            continue
        assert row["wpan.fcs_ok"] == "1", where
        assert row["_ws.malformed"] == "" and row["_ws.expert.message"] == "", f"{where}: {row}"
        to_client = f.sender == "server"
        assert int(row["wpan.dst16"], 16) == (devices[f.device].client if to_client else 0), where
        ours = F.parse(f.psdu, F.Keys(nwk_key=devices[f.device].nwk_key)).frame
        assert int(row["zbee.sec.counter"]) == ours.nwk.frame_counter, where
        # Wireshark names the command as we built it ("Image Block Request", "Upgrade End Response", ...)
        words = "".join(w.capitalize() for w in row["_ws.col.Info"].split("OTA: ")[1].split(",")[0].split())
        assert words == f.command, where
        if f.command == "ImageBlockRequest":
            assert int(row["zbee_zcl_general.ota.file.offset"]) == ours.ota.file_offset, where
        if f.command != "ImageBlockResponse":
            continue
        # decrypted with the right device's key: the data is the image's at that offset
        offset = int(row["zbee_zcl_general.ota.file.offset"])
        data = bytes.fromhex(row["zbee_zcl_general.ota.image.data"].replace(":", ""))
        assert int(row["zbee_zcl_general.ota.status"], 16) == F.SUCCESS and data
        assert data == image[offset:offset + len(data)], where
    assert bad_fcs > 10 * unparsed


# --- fleets and the command line ---------------------------------------------------------------------

def test_fleet_ids_map_to_the_campaigns_unit_keys(image):
    from althan_ota.fleet import generate_fleet

    fleet = generate_fleet(30, seed=2, mean_han_per=0.2, mean_bridge_per=0.3)
    ids, hub, _ = fleet.pairs()
    chosen = [ids[5].as_py(), ids[17].as_py()]
    frames, devices = C.emulated_capture(image, chosen, seed=1, fleet=fleet)
    rows = hub[[5, 17]]
    assert [d.unit_key for d in devices] == np.repeat(rows, 2).tolist()
    assert [d.installation for d in devices] == np.repeat(chosen, 2).tolist()
    links = {c: fleet.column(c).astype(np.float64)[rows] for c in ("han_per", "bridge_per")}
    result = emulate(links, seed=1, fidelity="bytes", image=image, installation_keys=rows)
    assert [d.frames for d in devices] == result.frames_built.tolist()
    assert [d.outcome for d in devices] == result.reasons().tolist()
    with pytest.raises(ParameterError, match="not in the fleet"):
        C.emulated_capture(image, ["INST-999999999"], fleet=fleet)


def test_frames_and_exchanges_that_do_not_match_are_an_error(image, monkeypatch):
    from althan_ota.emulate.trace import ExchangeTrace

    device = ExchangeTrace.device
    def one_data_exchange_less(self, row):
        rec = device(self, row)
        return np.delete(rec, np.flatnonzero(rec["kind"] == KINDS.index("block"))[:1])
    monkeypatch.setattr(ExchangeTrace, "device", one_data_exchange_less)
    with pytest.raises(CaptureError, match="match one to one"):
        C.emulated_capture(image, INSTALLATIONS, seed=SEED, params=LOSSY)


def test_bad_requests(image):
    with pytest.raises(ParameterError, match="need a fleet"):
        C.emulated_capture(image, ["INST-000000001"])
    with pytest.raises(ParameterError, match="repeat"):
        C.emulated_capture(image, [4, 4])
    with pytest.raises(ParameterError, match="at least one"):
        C.emulated_capture(image, [])
    with pytest.raises(ParameterError, match="requests must be"):
        C.emulated_capture(image, [1], requests="yes")
    with pytest.raises(ParameterError, match="Keys"):
        C.read_transfers(C.Capture(C.LINKTYPE_IEEE802_15_4_WITHFCS, []), [])
    with pytest.raises(ParameterError, match="image_size"):
        C.read_transfers(C.Capture(C.LINKTYPE_IEEE802_15_4_WITHFCS, []), F.Keys(), image_size=0)


def test_cli_writes_and_reads_back(tmp_path, image, capsys):
    from althan_ota.cli import main

    fw = tmp_path / "fw.ota"
    fw.write_bytes(image)
    out = tmp_path / "e.pcapng"
    args = ["capture", "--image", str(fw), "--installation", "7", "--installation", "8", "--seed", "2",
            "--out", str(out)]
    assert main(args + ["--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    keys = [d["nwk_key"] for d in summary["devices"]]
    assert keys == [device_key(2, k, s).hex() for k in (7, 8) for s in (0, 1)]
    assert summary["frames"] == len(C.read_capture(out).records)
    assert main(args) == 0
    text = capsys.readouterr().out
    assert all(k in text for k in keys) and "tshark -r" in text
    read = ["capture", "read", str(out), "--image-size", str(len(image))]
    for k in keys:
        read += ["--nwk-key", k]
    rc = main(read + ["--json"])
    report = json.loads(capsys.readouterr().out)
    done = [d["hash_ok"] for d in summary["devices"]]
    assert rc == (0 if all(done) else 1) and len(report["transfers"]) == 4
    for t in report["transfers"]:
        assert t["complete"] == done[t["network"]]
        assert t["sha256"] == (hashlib.sha256(image).hexdigest() if done[t["network"]] else None)
    for extra in (["--link", "bridge"], ["--per", "0.2"]):
        assert main(args + extra) == 1
        assert "do not apply" in capsys.readouterr().err


def test_frames_carry_the_images_own_identity():
    """Every Image Block Response, request and Upgrade End names the image the CH serves: its OTA header's
    manufacturer code, image type and file version (a Wireshark user matches them against the CPL)."""
    from althan_ota import frames as F
    from althan_ota.capture import emulated_capture
    from althan_ota.image import build_zigbee

    image = build_zigbee(bytes(range(256)) * 8, manufacturer_code=0x1037, image_type=0x0142,
                         file_version=0x01030200)
    frames, devices = emulated_capture(image, [5], seed=3)
    idents, commands = set(), set()
    for f in frames:
        if f.corrupted:
            continue
        ota = F.parse(f.psdu, F.Keys(nwk_key=devices[f.device].nwk_key)).frame.ota
        commands.add(f.command)
        if f.command == "QueryNextImageRequest":     # the bridge's running version: the image's less one
            assert (ota.manufacturer, ota.image_type, ota.file_version) == (0x1037, 0x0142, 0x01030200 - 1)
        else:
            idents.add((ota.manufacturer, ota.image_type, ota.file_version))
    assert {"ImageNotify", "QueryNextImageRequest", "QueryNextImageResponse", "ImageBlockRequest",
            "ImageBlockResponse", "UpgradeEndRequest"} <= commands
    assert idents == {(0x1037, 0x0142, 0x01030200)}


def test_wait_for_data_answers_in_the_capture(image, tmp_path):
    """A CH not ready for the first 2 s answers the first block requests WAIT_FOR_DATA: the capture has those
    answers (current time, the time to come back, the block period in ms), our reader counts them, and tshark
    decodes them as WAIT_FOR_DATA."""
    from althan_ota.emulate import OtaParams

    params = EmulationParams(ota=OtaParams(ch_ready_delay_s=2.0, wait_for_data_delay_s=0.5))
    frames, devices = C.emulated_capture(image, [5], seed=1, params=params)
    waits = {}
    for f in frames:
        if f.command == "ImageBlockResponse" and not f.corrupted:
            parsed = F.parse(f.psdu, F.Keys(nwk_key=devices[f.device].nwk_key)).frame
            if parsed.ota.status == F.WAIT_FOR_DATA:
                waits.setdefault(f.device, []).append((f.time, parsed))
    assert waits, "the CH should have answered WAIT_FOR_DATA"
    for device, answers in waits.items():
        for time, parsed in answers:
            assert parsed.ota.current_time == int(time) - C.emulated.ZIGBEE_EPOCH
            # UTCTime has whole seconds: the time to come back is rounded up, never earlier than asked
            assert parsed.ota.request_time == math.ceil(time + 0.5) - C.emulated.ZIGBEE_EPOCH
            assert parsed.ota.min_block_period == 100          # ms: the default 0.1 s
    path = tmp_path / "wait.pcap"
    C.write_pcap(path, [(f.time, f.psdu) for f in frames])
    report = C.read_transfers(path, [F.Keys(nwk_key=d.nwk_key) for d in devices], image_size=len(image))
    by_network = {t.network: t for t in report.transfers}
    for device, answers in waits.items():
        assert by_network[device].waits == len(answers)
    if TSHARK is not None:
        cmd = [TSHARK, "-r", str(path)]
        for d in devices:
            cmd += ["-o", f'uat:zigbee_pc_keys:"{d.nwk_key.hex()}","Normal","{d.side}"']
        cmd += ["-T", "fields", "-e", "zbee_zcl_general.ota.status", "-e", "_ws.col.Info"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
        assert sum(line.startswith("0x97") for line in out) == sum(len(a) for a in waits.values())
        assert any("Image Notify" in line for line in out) and any("Query Next Image Response" in line for line in out)
