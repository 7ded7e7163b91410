"""Shared material of the DUIS tests: the DCC test certificates and keys in tests/data/duis (see its README),
signers for the supplier user and the DSP, a firmware image, and one signed example of every message type."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import pytest

from althan_ota.duis import RequestId, Signer, TrustStore, load_schema
from althan_ota.duis import requests as rq
from althan_ota.duis import responses as rs
from althan_ota.image import build_gbcs

DATA = Path(__file__).parent / "data" / "duis"
if not DATA.is_dir():       # an sdist leaves the DCC's GPL-3.0 test material out (pyproject sdist.exclude)
    pytest.skip("tests/data/duis (DCC test material) is not in this tree", allow_module_level=True)
CERTS = DATA / "certs"
SCHEMA_PATH = DATA / "schemas" / "DUIS Schema V5.4.xsd"
USER = "90-B3-D5-1F-30-01-00-00"
DSP = "90-B3-D5-1F-30-00-00-02"
USER_KEY = DATA / "keys" / "xml-sign-90B3D51F30010000-ds.key"
USER_CERT = CERTS / "xml-sign-90B3D51F30010000-ds.pem"
DSP_KEY = DATA / "keys" / "dsp-xml-sign-90B3D51F30000002-ds.key"
DSP_CERT = CERTS / "dsp-xml-sign-90B3D51F30000002-ds.pem"
DSP_PREVIOUS_CERT = CERTS / "dsp-xml-sign-90B3D51F30000002-ds-pre-1.4.1.pem"
CH = "00-DB-12-34-56-78-FF-00"
VERSION = 0x01040000
WHEN = dt.datetime(2026, 3, 2, 10, 30, 15, 123000, tzinfo=dt.timezone.utc)
DEVICES = tuple(f"00-DB-12-34-56-78-{i >> 8:02X}-{i & 255:02X}" for i in range(64))


@functools.cache
def user_signer() -> Signer:
    return Signer(USER_KEY, USER_CERT)


@functools.cache
def dsp_signer() -> Signer:
    return Signer(DSP_KEY, DSP_CERT)


@functools.cache
def trust() -> TrustStore:
    return TrustStore.from_directory(CERTS)


def schema():
    return load_schema(SCHEMA_PATH)


@functools.cache
def image() -> bytes:
    """A GB upgrade image (unsigned, as PPMID images may be) of the campaign's version."""
    return build_gbcs(bytes(range(256)) * 64, manufacturer_code=0x1234, image_type=0x0101, file_version=VERSION,
                      min_hardware_version=1, max_hardware_version=3, signed=False)


def update_request_id(counter: int = 1) -> RequestId:
    return RequestId.make(USER, DSP, counter)


def unsigned(kind: str):
    """The unsigned root of one example of every message type, by name."""
    rid = update_request_id()
    builders = {
        "11.4": lambda: rq.update_ppmid_firmware(image(), DEVICES[:8], user_id=USER, dsp_id=DSP, counter=1),
        "8.2": lambda: rq.read_inventory(DEVICES[0], user_id=USER, dsp_id=DSP, counter=2),
        "12.2": lambda: rq.device_prenotification(DEVICES[1], manufacturer="AB01", model="010A030B",
                                                  firmware_version_text="01030000", user_id=USER, dsp_id=DSP,
                                                  counter=3),
        "11.2": lambda: rq.read_firmware_version(DEVICES[2], user_id=USER, counter=4, execution_datetime=WHEN),
        "ack": lambda: rs.service_response(rid, "11.4", "I0", WHEN),
        "ack-warnings": lambda: rs.service_response(rid, "11.4", "W110401", WHEN, warnings={
            "NotCommissionedDeviceIDList": DEVICES[3:5], "OtherRequestInProgressList": DEVICES[5:6],
            "NotApplicableFirmwareDeviceIDList": DEVICES[6:7]}),
        "rejected": lambda: rs.service_response(rid, "11.4", "E110401", WHEN),
        "inventory": lambda: rs.read_inventory_response(RequestId.make(USER, DSP, 2), [
            rs.InventoryEntry(DEVICES[0], "PPMID", "AB01", "010A030B", "Commissioned", VERSION),
            rs.InventoryEntry(DEVICES[1], "PPMID", "AB01", "010A030B", "Commissioned", 0x01030000),
            rs.InventoryEntry(CH, "CHF", "106C", "433100AC", "Commissioned", 0x00009001)], WHEN),
        "firmware-read": lambda: rs.read_firmware_version_response(RequestId.make(USER, DEVICES[2], 4),
                                                                   b"\xdd\x00\x01", WHEN, response_counter=7),
        "csp-delivered": lambda: rs.dcc_alert("N55", rs.csp_firmware_delivery_status(
            rid, CH, DEVICES[0], VERSION, WHEN, True), WHEN, dsp_id=DSP, user_id=USER, counter=10),
        "csp-failed": lambda: rs.dcc_alert("N55", rs.csp_firmware_delivery_status(
            rid, CH, DEVICES[1], VERSION, WHEN, False), WHEN, dsp_id=DSP, user_id=USER, counter=11),
        "distribution-failure": lambda: rs.dcc_alert("N12", rs.firmware_distribution_failure(
            rid, DEVICES[2:4]), WHEN, dsp_id=DSP, user_id=USER, counter=12),
        "ch-transfer": lambda: rs.dcc_alert("N54", rs.comms_hub_firmware_transfer(
            CH, "8F84", DEVICES[0], VERSION, "FileTransferSuccess", update_request_id=rid, timestamp=WHEN),
            WHEN, dsp_id=DSP, user_id=USER, counter=13),
        "ch-discarded": lambda: rs.dcc_alert("N54", rs.comms_hub_firmware_transfer(
            CH, "8F84", DEVICES[1], VERSION, "FirmwareImageDiscarded"), WHEN, dsp_id=DSP, user_id=USER,
            counter=14),
        "ppmid-activated": lambda: rs.dcc_alert("N44", rs.ppmid_firmware_activation(
            DEVICES[0], "8F85", VERSION, True, timestamp=WHEN), WHEN, dsp_id=DSP, user_id=USER, counter=15),
        "ppmid-failed": lambda: rs.dcc_alert("N44", rs.ppmid_firmware_activation(
            DEVICES[1], "8F85", 0x01030000, False), WHEN, dsp_id=DSP, user_id=USER, counter=16),
    }
    return builders[kind]()


REQUESTS = ("11.4", "8.2", "12.2", "11.2")
RESPONSES = ("ack", "ack-warnings", "rejected", "inventory", "firmware-read", "csp-delivered", "csp-failed",
             "distribution-failure", "ch-transfer", "ch-discarded", "ppmid-activated", "ppmid-failed")
KINDS = REQUESTS + RESPONSES


def signed(kind: str) -> bytes:
    return (user_signer() if kind in REQUESTS else dsp_signer()).sign(unsigned(kind))
