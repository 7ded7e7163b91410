"""``althan-ota duis`` end to end: build every request (signed, its counter from a campaign store), verify,
parse, validate, sign; refusals exit 1 and say why."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from althan_ota.campaign.store import CampaignStore
from althan_ota.cli import main
from duis_data import CERTS, DATA, DEVICES, DSP, DSP_CERT, DSP_KEY, SCHEMA_PATH, USER, USER_CERT, USER_KEY, image

SIGN = ["--key", str(USER_KEY), "--cert", str(USER_CERT)]
IDS = ["--user-id", USER]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "image.bin").write_bytes(image())
    (tmp_path / "devices.txt").write_text("# PPMIDs of wave 1\n" + "\n".join(DEVICES[:20]) + "\n")
    return tmp_path


def _build(files, service, *extra, store=True):
    out = files / f"{service}.xml"
    counter = ["--store", str(files / "store.duckdb")] if store else ["--counter", "77"]
    assert main(["duis", "build", service, "-o", str(out), *IDS, *counter, *SIGN, "--schema", str(SCHEMA_PATH),
                 *extra]) == 0
    return out


def test_build_every_request_with_counters_from_the_store(files, capsys):
    target = ["--target", DSP]
    paths = [
        _build(files, "11.4", "--image", str(files / "image.bin"), "--devices-file", str(files / "devices.txt"),
               *target),
        _build(files, "8.2", "--device", DEVICES[0], *target),
        _build(files, "12.2", "--device", DEVICES[1], "--manufacturer", "AB01", "--model", "NB-P2P-H2", *target),
        _build(files, "11.2", "--device", DEVICES[2]),
    ]
    printed = capsys.readouterr().out
    assert [f":{n} " in printed for n in (1, 2, 3, 4)] == [True] * 4
    with CampaignStore(files / "store.duckdb") as store:
        assert store.last_request_counter(USER) == 4
    for counter, path in enumerate(paths, start=1):
        assert main(["duis", "verify", str(path), "--certs", str(CERTS), "--expect-signer", USER, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["signer"] == USER
        assert main(["duis", "validate", str(path), "--schema", str(SCHEMA_PATH)]) == 0
        capsys.readouterr()
        assert main(["duis", "parse", str(path), "--certs", str(CERTS), "--json"]) == 0
        parsed = json.loads(capsys.readouterr().out)
        assert parsed["verified"] and parsed["request_id"].endswith(f":{counter}")
    assert main(["duis", "parse", str(paths[0]), "--json"]) == 0
    update = json.loads(capsys.readouterr().out)["records"][0]
    assert update["device_ids"] == list(DEVICES[:20]) and update["firmware_version_text"] == "01040000"


def test_explicit_counter_and_unsigned_output(files, capsys):
    out = files / "u.xml"
    assert main(["duis", "build", "8.2", "-o", str(out), *IDS, "--target", DSP, "--counter", "123456789",
                 "--device", DEVICES[0]]) == 0
    assert b":123456789<" in out.read_bytes() and b"Signature" not in out.read_bytes()
    assert main(["duis", "verify", str(out), "--certs", str(CERTS)]) == 1
    assert "unsigned" in capsys.readouterr().err
    assert main(["duis", "sign", str(out), "--key", str(USER_KEY), "--cert", str(USER_CERT), "-o",
                 str(files / "s.xml")]) == 0
    assert main(["duis", "verify", str(files / "s.xml"), "--certs", str(CERTS)]) == 0


def test_refusals_exit_1_and_say_why(files, capsys):
    signed = _build(files, "8.2", "--device", DEVICES[0], "--target", DSP, store=False)
    tampered = files / "tampered.xml"
    tampered.write_bytes(signed.read_bytes().replace(DEVICES[0].encode(), DEVICES[1].encode()))
    capsys.readouterr()
    assert main(["duis", "verify", str(tampered), "--certs", str(CERTS)]) == 1
    assert "DigestValue" in capsys.readouterr().err
    assert main(["duis", "verify", str(signed), "--certs", str(CERTS), "--expect-signer", DSP]) == 1
    assert "not by 90-B3-D5-1F-30-00-00-02" in capsys.readouterr().err
    invalid = files / "invalid.xml"
    invalid.write_bytes(signed.read_bytes().replace(DEVICES[0].encode(), b"NOT-AN-EUI", 1))
    assert main(["duis", "validate", str(invalid), "--schema", str(SCHEMA_PATH)]) == 1
    assert "DeviceID" in capsys.readouterr().err
    # parameter errors: exit 1 with the reason
    assert main(["duis", "build", "11.2", "-o", str(files / "x.xml"), *IDS, "--counter", "1", "--device",
                 DEVICES[0], "--target", DSP]) == 1
    assert "device request" in capsys.readouterr().err
    assert main(["duis", "build", "8.2", "-o", str(files / "x.xml"), *IDS, "--counter", "1", "--device",
                 DEVICES[0]]) == 1
    assert "--target" in capsys.readouterr().err


def test_parse_a_dcc_alert_in_text(files, capsys):
    from duis_data import signed as make

    path = files / "alert.xml"
    path.write_bytes(make("ppmid-activated"))
    assert main(["duis", "parse", str(path), "--certs", str(CERTS)]) == 0
    text = capsys.readouterr().out
    assert "dcc_alert" in text and "FirmwareActivation" in text and "-> ppmid_activation_success" in text
    assert main(["duis", "parse", str(path)]) == 0
    assert "NOT verified" in capsys.readouterr().out


def test_schema_from_the_environment(files, monkeypatch, capsys):
    monkeypatch.setenv("ALTHAN_OTA_DUIS_SCHEMA", str(SCHEMA_PATH))
    path = DATA / "dccboxed" / "read-inventory-response-5.4.xml"
    assert main(["duis", "validate", str(path)]) == 0
    monkeypatch.delenv("ALTHAN_OTA_DUIS_SCHEMA")
    assert main(["duis", "validate", str(path)]) == 1
    assert "no DUIS schema given" in capsys.readouterr().err


def test_the_installed_command_runs(files):
    """The console script, as a user runs it: the DSP's signature on a DCC alert."""
    from duis_data import signed as make

    path = files / "alert.xml"
    path.write_bytes(make("csp-delivered"))
    run = subprocess.run([sys.executable, "-m", "althan_ota", "duis", "verify", str(path), "--certs", str(CERTS),
                          "--expect-signer", DSP], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "verified: signed by 90-B3-D5-1F-30-00-00-02" in run.stdout
    assert DSP_KEY.is_file() and DSP_CERT.is_file()
