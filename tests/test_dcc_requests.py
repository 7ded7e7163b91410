"""The stand-in's synchronous answers: refusals with their E codes (and nothing scheduled), 8.2 from the
inventory, transport garbage. A real `althan-ota dcc serve` process on 127.0.0.1."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from althan_ota.duis import Signer, Verifier, read_message
from althan_ota.duis import requests as rq
from althan_ota.fleet import read_fleet
from althan_ota.fleet.schema import JOINED_AS_CAD
from dcc_harness import StandIn, post, write_fleet
from duis_data import DSP, USER, image, trust, user_signer


@pytest.fixture(scope="module")
def fleet_path(tmp_path_factory):
    return write_fleet(tmp_path_factory.mktemp("fleet") / "fleet.parquet", 40, cad_joined=0.1, suspended=0.1)


@pytest.fixture(scope="module")
def fleet(fleet_path):
    return read_fleet(fleet_path)


@pytest.fixture()
def stand_in(fleet_path, tmp_path):
    server = StandIn(fleet_path, tmp_path / "state.sqlite")     # no user endpoint: nothing leaves
    yield server
    server.stop()


def answer(stand_in, body: bytes):
    status, reply, headers = post(stand_in.url, body, emulated_time=0)
    assert status == 200, reply
    message = read_message(reply, Verifier(trust(), expected_signers=[DSP]))
    return message.response_code.code, message


def eligible(fleet, n=4):
    ok = (fleet.column("smi_status") == "Commissioned") & (fleet.column("join_mode") != JOINED_AS_CAD)
    return [d for d, good in zip(fleet.column("device_id"), ok) if good][:n]


def update(fleet, counter, signer=None, **changes):
    root = rq.update_ppmid_firmware(image(), eligible(fleet), user_id=USER, dsp_id=changes.get("dsp", DSP),
                                    counter=counter)
    return (signer or user_signer()).sign(root)


def foreign_signer() -> Signer:
    """A P-256 key and self-signed certificate the stand-in's trust store does not hold."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stranger")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(12345).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return Signer(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()), cert.public_bytes(serialization.Encoding.PEM))


def test_accepted_update_is_acknowledged_and_scheduled(stand_in, fleet):
    code, message = answer(stand_in, update(fleet, 1))
    assert code == "I0"
    assert message.outcomes()[0][1] == "duis_acknowledged"
    assert stand_in.status()["pending"] > 0


@pytest.mark.parametrize("case", ["tampered", "unknown_signer", "wrong_user", "schema_invalid"])
def test_refused_request_gets_its_code_and_schedules_nothing(stand_in, fleet, case):
    if case == "tampered":
        body = update(fleet, 1).replace(b"<sr:FirmwareVersion>01040000", b"<sr:FirmwareVersion>01050000")
        expected = "E1"
    elif case == "unknown_signer":
        body, expected = update(fleet, 1, signer=foreign_signer()), "E1"
    elif case == "wrong_user":
        from duis_data import dsp_signer
        body, expected = update(fleet, 1, signer=dsp_signer()), "E1"
    else:
        root = rq.update_ppmid_firmware(image(), eligible(fleet), user_id=USER, dsp_id=DSP, counter=1)
        root.find(".//{*}CommandVariant").text = "nine"
        body, expected = user_signer().sign(root), "E40"
    code, _ = answer(stand_in, body)
    assert code == expected
    assert stand_in.status() | {"requests": 1} == {"requests": 1, "refused": 1, "delivered": 0,
                                                      "delivery_failures": 0, "pending": 0, "unsigned": 0}
    # the refused request did not use up its counter
    assert answer(stand_in, update(fleet, 1))[0] == "I0"


def test_counter_must_increase(stand_in, fleet):
    assert answer(stand_in, update(fleet, 7))[0] == "I0"
    pending = stand_in.status()["pending"]
    for counter in (7, 6):
        assert answer(stand_in, update(fleet, counter))[0] == "E41"
    assert stand_in.status()["pending"] == pending
    assert answer(stand_in, update(fleet, 8))[0] == "I0"


def test_update_for_another_target_is_refused(stand_in, fleet):
    assert answer(stand_in, update(fleet, 1, dsp="90-B3-D5-1F-30-00-00-09"))[0] == "E13"
    assert stand_in.status()["pending"] == 0


def test_devices_the_dsp_cannot_update_are_listed_in_the_warning(stand_in, fleet):
    status, join = fleet.column("smi_status"), fleet.column("join_mode")
    ids = fleet.column("device_id")
    cad = next(d for d, j, s in zip(ids, join, status) if j == JOINED_AS_CAD and s == "Commissioned")
    suspended = next(d for d, s in zip(ids, status) if s == "Suspended")
    good = eligible(fleet, 1)[0]
    root = rq.update_ppmid_firmware(image(), [good, cad, suspended, "00-DB-00-00-00-00-00-01"], user_id=USER,
                                    dsp_id=DSP, counter=1)
    code, message = answer(stand_in, user_signer().sign(root))
    assert code == "I0"
    lists = {r.list_name: set(r.device_ids) for r in message.records if hasattr(r, "list_name")}
    assert lists == {"NotApplicableFirmwareDeviceIDList": {cad}, "NotCommissionedDeviceIDList": {suspended},
                     "InvalidDeviceIDList": {"00-DB-00-00-00-00-00-01"}}


def test_read_inventory_answers_from_the_inventory(stand_in, fleet):
    ids, status, join = fleet.column("device_id"), fleet.column("smi_status"), fleet.column("join_mode")
    good = eligible(fleet, 1)[0]
    cad = next(d for d, j in zip(ids, join) if j == JOINED_AS_CAD)
    suspended = next(d for d, s, j in zip(ids, status, join) if s == "Suspended" and j != JOINED_AS_CAD)
    cases = [(good, "I0"), (cad, "E5"), (suspended, "E5"), ("00-DB-00-00-00-00-00-01", "E19")]
    for counter, (device, expected) in enumerate(cases, start=1):
        body = user_signer().sign(rq.read_inventory(device, user_id=USER, dsp_id=DSP, counter=counter))
        code, message = answer(stand_in, body)
        assert code == expected, device
    row = list(ids).index(good)
    code, message = answer(stand_in, user_signer().sign(rq.read_inventory(good, user_id=USER, dsp_id=DSP,
                                                                             counter=10)))
    (device,) = [r for r in message.records if type(r).__name__ == "InventoryDevice"]
    assert device.firmware_version == int(fleet.column("firmware_version")[row])


@pytest.mark.parametrize("body, reason", [(b"", "empty"), (b"\x00\x01garbage", "not a DUIS message"),
                                          (b"<a/>", "RequestID")])
def test_transport_garbage_is_a_400_with_a_reason(stand_in, body, reason):
    status, reply, _ = post(stand_in.url, body)
    assert status == 400 and reason in reply.decode()
