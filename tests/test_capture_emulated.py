"""Chosen installations' emulated traffic as a capture: the real tshark decodes it with the devices' keys (bad
FCS exactly where CRC-16/KERMIT says so), our reader rebuilds each device's image (SHA-256 against hashlib),
timestamps follow each device's download, the same seed gives the same file, and fleet IDs map to the
campaign's unit keys."""

from __future__ import annotations

import hashlib
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
from althan_ota.errors import ParameterError

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


def test_the_installations_devices_and_keys(emulated):
    frames, devices = emulated
    assert [(d.unit_key, d.side) for d in devices] == [(k, s) for k in INSTALLATIONS
                                                        for s in ("hub_side", "meter_side")]
    for d in devices:
        assert d.nwk_key == device_key(SEED, d.unit_key, 0 if d.side == "hub_side" else 1)
    assert len({d.nwk_key for d in devices}) == 4
    counts = np.bincount([f.device for f in frames], minlength=4)
    assert counts.tolist() == [d.frames for d in devices] and all(counts)
    assert any(f.corrupted for f in frames)
    assert any(d.hash_ok for d in devices)


def test_frames_are_the_emulators(emulated, image):
    """Each device's frames are exactly device_frames() of the same emulation, in exchange order."""
    frames, devices = emulated
    result = emulate(len(INSTALLATIONS), params=LOSSY, seed=SEED, fidelity="bytes", image=image,
                     installation_keys=INSTALLATIONS)
    for row, d in enumerate(devices):
        mine = [f for f in frames if f.device == row]
        sent, corrupted = result.device_frames(row, 0, d.frames + 1)
        assert [f.psdu for f in mine] == sent and [f.corrupted for f in mine] == corrupted.astype(bool).tolist()


def test_timestamps(emulated, pcap):
    frames, devices = emulated
    times = np.array([f.time for f in frames])
    assert np.all(np.diff(times) >= 0)
    start = C.SessionConfig.start
    for row, d in enumerate(devices):
        t = times[[f.device == row for f in frames]]
        assert t[0] > start + d.t_download_start and t[-1] == pytest.approx(start + d.t_download_end)
        assert np.allclose(np.diff(t), (d.t_download_end - d.t_download_start) / d.frames)
    on_file = [r.time for r in C.read_capture(pcap).records]
    assert len(on_file) == len(frames) and np.all(np.diff(on_file) >= 0)
    assert np.allclose(on_file, times, atol=1e-6)


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
        f.device == 1 and not f.corrupted for f in frames)


# --- Wireshark ---------------------------------------------------------------------------------------

TSHARK = shutil.which("tshark")
FIELDS = ["frame.number", "wpan.fcs_ok", "_ws.malformed", "_ws.expert.message", "wpan.dst16",
          "zbee.sec.counter", "zbee_zcl_general.ota.status", "zbee_zcl_general.ota.file.offset",
          "zbee_zcl_general.ota.image.data"]


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
        assert int(row["wpan.dst16"], 16) == devices[f.device].client, where
        ours = F.parse(f.psdu, F.Keys(nwk_key=devices[f.device].nwk_key)).frame
        assert int(row["zbee.sec.counter"]) == ours.nwk.frame_counter, where
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


def test_bad_requests(image):
    with pytest.raises(ParameterError, match="need a fleet"):
        C.emulated_capture(image, ["INST-000000001"])
    with pytest.raises(ParameterError, match="repeat"):
        C.emulated_capture(image, [4, 4])
    with pytest.raises(ParameterError, match="at least one"):
        C.emulated_capture(image, [])
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
