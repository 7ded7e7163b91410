"""DUIS messages: every builder's output is valid against the DUIS 5.4 schema and reads back to what was put
in; the response-code table is the schema's; identifiers and limits are checked."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from althan_ota.duis import RESPONSE_CODES, RequestId, read_message, response_code
from althan_ota.duis import requests as rq
from althan_ota.duis import responses as rs
from althan_ota.duis.identifiers import eui
from althan_ota.duis.names import MAX_DEVICE_IDS
from althan_ota.duis.parse import parse_tree
from althan_ota.duis.records import OUTCOME_KEYS, as_dict
from althan_ota.errors import DuisError, ParameterError
from duis_data import DATA, DEVICES, DSP, KINDS, SCHEMA_PATH, USER, VERSION, WHEN, image, schema, unsigned

XS = "{http://www.w3.org/2001/XMLSchema}"


@pytest.mark.parametrize("kind", KINDS)
def test_every_builder_is_schema_valid(kind):
    schema().validate(unsigned(kind))


def test_update_ppmid_firmware_carries_the_image_version_and_devices():
    root = unsigned("11.4")
    (record,) = parse_tree(root).records
    assert record.image == image()
    assert record.firmware_version == VERSION and record.firmware_version_text == "01040000"
    assert record.device_ids == DEVICES[:8]
    message = parse_tree(root)
    assert message.command_variant == 8 and message.service_reference_variant == "11.4"
    assert message.request_id == RequestId(USER, DSP, 1)


def test_update_ppmid_firmware_at_the_schema_limit():
    devices = [f"00-DB-{i >> 24 & 255:02X}-{i >> 16 & 255:02X}-{i >> 8 & 255:02X}-{i & 255:02X}-00-01"
               for i in range(MAX_DEVICE_IDS)]
    root = rq.update_ppmid_firmware(image(), devices, user_id=USER, dsp_id=DSP, counter=5)
    schema().validate(root)
    assert len(root.findtext(".//{*}DeviceIDList")) == 1_199_999          # the schema's maxLength
    with pytest.raises(ParameterError, match="at most 50,000"):
        rq.update_ppmid_firmware(image(), devices + ["00-DB-00-00-00-00-00-02"], user_id=USER, dsp_id=DSP,
                                 counter=6)
    batches = rq.split_device_ids(devices + ["00-DB-00-00-00-00-00-02"])
    assert [len(b) for b in batches] == [MAX_DEVICE_IDS, 1]


def test_update_ppmid_firmware_refuses_what_is_not_a_campaign_image():
    with pytest.raises(ParameterError, match="not the image's file version"):
        rq.update_ppmid_firmware(image(), DEVICES[:1], user_id=USER, dsp_id=DSP, counter=1, version=VERSION + 1)
    with pytest.raises(Exception):
        rq.update_ppmid_firmware(b"not an OTA image", DEVICES[:1], user_id=USER, dsp_id=DSP, counter=1)
    with pytest.raises(ParameterError, match="twice"):
        rq.update_ppmid_firmware(image(), DEVICES[:1] * 2, user_id=USER, dsp_id=DSP, counter=1)
    with pytest.raises(ParameterError, match="at least one"):
        rq.update_ppmid_firmware(image(), [], user_id=USER, dsp_id=DSP, counter=1)


def test_request_headers_follow_the_dcc_examples():
    """RequestID user:target:counter, CommandVariant 8 for the DSP's non-device requests and 1 for 11.2,
    ServiceReference = ServiceReferenceVariant, as in the DCC's 8.2, 12.2 and 11.2 example requests."""
    for kind, template in (("8.2", "8.2_READ_INVENTORY_REQUEST_DUIS.XML"),
                           ("12.2", "12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML"),
                           ("11.2", "CS08_11.2_SUCCESS_REQUEST_DUIS.XML"),
                           ("11.4", "11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML")):
        example = etree.parse(str(DATA / "templates" / template)).getroot()
        ours = unsigned(kind)
        for name in ("CommandVariant", "ServiceReference", "ServiceReferenceVariant"):
            assert ours.findtext(f"{{*}}Header/{{*}}{name}") == example.findtext(f"{{*}}Header/{{*}}{name}")
        assert ours.get("schemaVersion") == example.get("schemaVersion") == "5.4"
        assert [c.tag for c in ours.find("{*}Body")] == [c.tag for c in example.find("{*}Body")]


def test_dcc_example_requests_read():
    for template, expected in (("8.2_READ_INVENTORY_REQUEST_DUIS.XML", ("DeviceID", "00-DB-12-34-56-78-90-A2")),
                               ("12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML", "00-DB-12-34-56-78-90-A0"),
                               ("11.4_UPDATE_PPMID_FIRMWARE_REQUEST_DUIS.XML", ("00-DB-12-34-56-78-90-A4",))):
        message = read_message((DATA / "templates" / template).read_bytes(), None, schema=schema())
        record = message.records[0]
        if template.startswith("8.2"):
            assert (record.selector, record.value) == expected
        elif template.startswith("12.2"):
            assert record.device_id == expected and record.device_type == "ESME" and record.esme_variant == "AD"
        else:
            assert record.device_ids == expected and record.firmware_version == 0
            assert record.image.startswith(b"\x1e\xf1\xee\x0b")


def test_prenotification_and_read_firmware_version_read_back():
    pre = parse_tree(unsigned("12.2")).records[0]
    assert (pre.device_id, pre.manufacturer, pre.model, pre.device_type, pre.firmware_version_text) == \
        (DEVICES[1], "AB01", "010A030B", "PPMID", "01030000")
    read = parse_tree(unsigned("11.2"))
    assert read.request_id.target == DEVICES[2] and read.command_variant == 1
    assert read.records[0].execution_datetime == "2026-03-02T10:30:15.123Z"


def test_responses_read_back():
    warnings = parse_tree(unsigned("ack-warnings"))
    assert warnings.response_code.code == "W110401" and warnings.response_code.severity == "warning"
    assert [(r.list_name, r.device_ids) for r in warnings.records[1:]] == [
        ("NotCommissionedDeviceIDList", DEVICES[3:5]), ("NotApplicableFirmwareDeviceIDList", DEVICES[6:7]),
        ("OtherRequestInProgressList", DEVICES[5:6])]
    transfer = parse_tree(unsigned("ch-transfer")).records[0]
    assert (transfer.ch_id, transfer.alert_code, transfer.device_id, transfer.result, transfer.update_request_id) \
        == ("00-DB-12-34-56-78-FF-00", "8F84", DEVICES[0], "FileTransferSuccess", RequestId(USER, DSP, 1))
    activation = parse_tree(unsigned("ppmid-failed")).records[0]
    assert (activation.device_id, activation.firmware_version, activation.activated) == \
        (DEVICES[1], 0x01030000, False)
    alert = parse_tree(unsigned("csp-delivered"))
    assert alert.kind == "dcc_alert" and alert.alert_code == "N55" and alert.response_id.originator == DSP
    read = parse_tree(unsigned("firmware-read")).records[-1]
    assert read.device_id == DEVICES[2] and read.gbcs_payload == b"\xdd\x00\x01"


def test_inventory_readback_targets():
    root = unsigned("inventory")
    assert [r.outcome for r in parse_tree(root).records[1:]] == [None, None, None]
    per_device = parse_tree(root, targets={DEVICES[1]: 0x01030000}).records[1:]
    assert [r.outcome for r in per_device] == [None, "readback_current", None]
    everyone = parse_tree(root, targets=VERSION).records[1:]     # an int applies to PPMID rows only
    assert [r.outcome for r in everyone] == ["readback_current", "readback_mismatch", None]


@pytest.mark.parametrize("version", ["5.0", "5.1", "5.3", "5.4", "5"])
def test_any_5x_schema_version_is_read(version):
    root = unsigned("ppmid-activated")
    root.set("schemaVersion", version)
    schema().validate(root)
    assert parse_tree(root).schema_version == version


@pytest.mark.parametrize("version", ["4.0", "6.0", "5.x", ""])
def test_other_schema_versions_are_refused(version):
    root = unsigned("ppmid-activated")
    root.set("schemaVersion", version)
    with pytest.raises(DuisError, match="schemaVersion"):
        parse_tree(root)


def test_response_codes_are_the_schemas():
    tree = etree.parse(str(SCHEMA_PATH))
    enumeration = tree.getroot().find(f"{XS}simpleType[@name='ResponseCode']")
    assert list(RESPONSE_CODES) == [e.get("value") for e in enumeration.iter(f"{XS}enumeration")]
    assert response_code("I0").severity == "information" and response_code("I99").documented
    assert response_code("E19").meaning.startswith("Failed Authorisation - Device does not exist")
    assert response_code("W110401").service_reference == "11.4" and response_code("W110401").severity == "warning"
    assert response_code("E080201").service_reference == "8.2"
    assert all(c.is_error == c.code.startswith("E") for c in RESPONSE_CODES.values())
    with pytest.raises(DuisError, match="not a DUIS 5.4 response code"):
        response_code("E9999")


def test_every_outcome_the_parser_gives_is_a_declared_key():
    from althan_ota.duis import records

    given = {records.DUIS_ACKNOWLEDGED, records.DUIS_REJECTED, records.READBACK_CURRENT, records.READBACK_MISMATCH,
             *records.WARNING_LISTS.values(), *records.TRANSFER_RESULTS.values(),
             *records.ACTIVATION_RESULTS.values(), *records.DELIVERY_RESULTS.values()}
    assert given == set(OUTCOME_KEYS) and len(OUTCOME_KEYS) == len(set(OUTCOME_KEYS))


@pytest.mark.parametrize("value, expected", [
    ("00-db-12-34-56-78-90-a0", "00-DB-12-34-56-78-90-A0"), ("00DB1234567890A0", "00-DB-12-34-56-78-90-A0"),
    (0x00DB1234567890A0, "00-DB-12-34-56-78-90-A0"), ("00:DB:12:34:56:78:90:A0", "00-DB-12-34-56-78-90-A0")])
def test_eui_forms(value, expected):
    assert eui(value) == expected


@pytest.mark.parametrize("value", ["00-DB-12", "GG-DB-12-34-56-78-90-A0", -1, 2**64, None, True])
def test_bad_euis(value):
    with pytest.raises(ParameterError):
        eui(value)


@pytest.mark.parametrize("text", ["a:b:c", "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:01",
                                  "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:18446744073709551616",
                                  "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02", ""])
def test_bad_request_ids(text):
    with pytest.raises(DuisError, match="RequestID"):
        RequestId.parse(text)


def test_request_id_limits():
    top = RequestId.make(USER, DSP, 2**64 - 1)
    assert RequestId.parse(str(top)) == top
    with pytest.raises(ParameterError):
        RequestId.make(USER, DSP, 2**64)


def test_builders_check_their_arguments():
    with pytest.raises(ParameterError, match="device type"):
        rq.device_prenotification(DEVICES[0], manufacturer="A", model="B", device_type="BRIDGE", user_id=USER,
                                  dsp_id=DSP, counter=1)
    with pytest.raises(ParameterError, match="1 to 30"):
        rq.device_prenotification(DEVICES[0], manufacturer="A" * 31, model="B", user_id=USER, dsp_id=DSP, counter=1)
    with pytest.raises(ParameterError, match="aware"):
        rq.read_firmware_version(DEVICES[0], user_id=USER, counter=1,
                                 execution_datetime=WHEN.replace(tzinfo=None))
    with pytest.raises(ParameterError, match="transfer result"):
        rs.comms_hub_firmware_transfer(DEVICES[0], "8F84", DEVICES[1], VERSION, "Done")
    with pytest.raises(ParameterError, match="hex"):
        rs.ppmid_firmware_activation(DEVICES[0], "8F8", VERSION, True)
    with pytest.raises(ParameterError, match="unknown warning lists"):
        rs.service_response(RequestId(USER, DSP, 1), "11.4", "W110401", WHEN, warnings={"Other": DEVICES[:1]})
    with pytest.raises(ParameterError, match="1 to 17"):
        rs.read_inventory_response(RequestId(USER, DSP, 1), [], WHEN)


def test_as_dict_is_json_ready():
    import json

    for kind in KINDS:
        view = as_dict(parse_tree(unsigned(kind)))
        json.dumps(view)
    view = as_dict(parse_tree(unsigned("11.4")).records[0])
    assert view["image_bytes"] == len(image()) and "image" not in view
    assert view["firmware_version"] == "0x01040000"
    read = as_dict(parse_tree(unsigned("firmware-read")).records[-1])
    assert base64.b64decode(read["gbcs_payload"]) == b"\xdd\x00\x01"


def test_requests_from_our_release_and_fleet(tmp_path):
    """A campaign's messages built from a signed test release and a synthetic fleet: each side's SRV 11.4 for
    its PPMID-joined bridges, 12.2 / 8.2 / 11.2 per bridge, the DSP's 8.2 answer from the inventory; every one
    schema-valid, signed, verified and read back to the fleet's values."""
    from althan_ota.duis import Verifier
    from althan_ota.fleet.synthetic import generate_fleet
    from althan_ota.image import parse as parse_image
    from althan_ota.release import verify_bundle
    from althan_ota.testing.release_bundles import make_test_release
    from duis_data import dsp_signer, trust, user_signer

    release = make_test_release(tmp_path / "release.zip")
    verify_bundle(release.path, "test", release.trusted_keys)
    rows = generate_fleet(60, seed=3).table.to_pylist()
    bridges = [r for r in rows if r["ppmid_variant"] != "PPMID" and r["join_mode"] == "PPMID"]
    verifier = Verifier(trust())
    counter = iter(range(1, 10_000))
    for side, image in release.images.items():
        devices = [r["device_id"] for r in bridges if r["ppmid_variant"] == side]
        assert devices
        root = rq.update_ppmid_firmware(image, devices, user_id=USER, dsp_id=DSP, counter=next(counter))
        message = read_message(user_signer().sign(root), verifier, schema=schema())
        (record,) = message.records
        assert record.device_ids == tuple(devices) and record.image == image
        assert record.firmware_version == parse_image(image).file_version == VERSION
    for row in bridges[:10]:
        pre = rq.device_prenotification(row["device_id"], manufacturer=row["manufacturer"], model=row["model"],
                                        firmware_version_text=f"{row['firmware_version']:08X}", user_id=USER,
                                        dsp_id=DSP, counter=next(counter))
        read = rq.read_inventory(row["device_id"], user_id=USER, dsp_id=DSP, counter=next(counter))
        version = rq.read_firmware_version(row["device_id"], user_id=USER, counter=next(counter))
        for root in (pre, read, version):
            message = read_message(user_signer().sign(root), verifier, schema=schema())
            assert message.request_id.counter == int(root.findtext("{*}Header/{*}RequestID").split(":")[2])
            assert message.records[0].device_ids in ((row["device_id"],), ())
        assert parse_tree(pre).records[0].model == row["model"]
    entries = [rs.InventoryEntry(r["device_id"], r["device_type"], r["manufacturer"], r["model"], r["smi_status"],
                                 r["firmware_version"]) for r in bridges[:17]]
    answer = dsp_signer().sign(rs.read_inventory_response(RequestId(USER, DSP, 9), entries, WHEN))
    targets = {r["device_id"]: VERSION for r in bridges[:17]}
    message = read_message(answer, Verifier(trust(), DSP), schema=schema(), targets=targets)
    assert [(r.device_id, r.firmware_version, r.outcome) for r in message.records[1:]] == [
        (r["device_id"], r["firmware_version"],
         "readback_current" if r["firmware_version"] == VERSION else "readback_mismatch") for r in bridges[:17]]


def test_every_outcome_the_parser_gives_has_a_row_in_the_outcome_table():
    from althan_ota.campaign.outcomes import BY_KEY, outcome

    missing = [key for key in OUTCOME_KEYS if key not in BY_KEY]
    assert not missing, f"DUIS outcome keys with no row in campaign/outcomes.py: {missing}"
    # the one key the campaign (not the parser) emits for DUIS: nothing heard within the device timeout
    assert outcome("duis_no_response").state.label == "unreachable"
