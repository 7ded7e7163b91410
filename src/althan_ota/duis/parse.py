"""Reading a DUIS message's tree (from :func:`.safe_xml.parse_bytes`, after :class:`.Verifier` took its
signature out) into a :class:`.records.Message`.

Elements are matched by namespace and local name, so any namespace prefix works. The parser checks what it
reads (identifiers, enumerations, base64, required elements) and raises DuisError naming the element for
anything it cannot read; a body it does not interpret is kept as :class:`.records.OtherContent`. Any
``schemaVersion`` 5.x is read (older revisions validate against the 5.4 schema for these messages).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from lxml import etree

from ..errors import DuisError
from . import records as rec
from .codes import response_code
from .identifiers import RequestId, eui, eui_from_text, parse_firmware_version, split_device_id_list
from .names import SR, local_name, sr

_SCHEMA_VERSION = re.compile(r"5(\.\d{1,4})?\Z")
_HEX = re.compile(r"[0-9A-Fa-f]*\Z")


def parse_tree(root: etree._Element, signer=None, targets=None) -> rec.Message:
    """The :class:`Message` in the tree rooted at ``root``.

    ``targets``: the campaign's target version — one int for every PPMID, or a mapping device ID -> version —
    so that 8.2 inventory rows of those devices carry readback_current / readback_mismatch.
    """
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == sr("Request"):
        return _request(root, signer)
    if tag == sr("Response"):
        return _response(root, signer, _targets(targets))
    raise DuisError(f"root element {_qname(tag)}: a DUIS message is sr:Request or sr:Response "
                    f"(namespace {SR})")


# -- requests ---------------------------------------------------------------------------------------------
def _request(root, signer) -> rec.Message:
    version = _schema_version(root)
    header = _child(root, "Header", "Request")
    request_id = RequestId.parse(_text(header, "RequestID", "Request/Header"), "Request/Header/RequestID")
    variant = _int(_text(header, "CommandVariant", "Request/Header"), "Request/Header/CommandVariant")
    srv = _text(header, "ServiceReferenceVariant", "Request/Header")
    body = _only_child(_child(root, "Body", "Request"), "Request/Body")
    name = local_name(body.tag)
    if body.tag == sr("UpdatePPMIDFirmware"):
        record = _update_ppmid_firmware(body)
    elif body.tag == sr("ReadInventory"):
        selector = _only_child(body, "ReadInventory")
        record = rec.ReadInventoryRequest(local_name(selector.tag), _value(selector, "ReadInventory"))
        if record.selector == "DeviceID":
            record = rec.ReadInventoryRequest("DeviceID", eui_from_text(record.value, "ReadInventory/DeviceID"))
    elif body.tag == sr("DevicePrenotification"):
        where = "DevicePrenotification"
        record = rec.DevicePrenotificationRequest(
            eui_from_text(_text(body, "DeviceID", where), f"{where}/DeviceID"),
            _text(body, "DeviceManufacturer", where, empty_ok=True), _text(body, "DeviceModel", where, empty_ok=True),
            _text(body, "DeviceType", where), _text(body, "SMETSCHTSVersion", where, required=False),
            _text(body, "FirmwareVersion", where, required=False), _text(body, "ESMEVariant", where, required=False))
    elif body.tag == sr("ReadFirmwareVersion"):
        record = rec.ReadFirmwareVersionRequest(_text(body, "ExecutionDateTime", "ReadFirmwareVersion",
                                                      required=False))
    else:
        record = rec.OtherContent(name)
    return rec.Message("request", version, request_id, None, None, None, variant, srv, None, (record,), signer)


def _update_ppmid_firmware(body) -> rec.UpdatePpmidFirmwareRequest:
    where = "UpdatePPMIDFirmware"
    image = _base64(_text(body, "FirmwareImage", where), f"{where}/FirmwareImage")
    version_text = _text(body, "FirmwareVersion", where)
    devices = split_device_id_list(_text(body, "DeviceIDList", where), f"{where}/DeviceIDList")
    return rec.UpdatePpmidFirmwareRequest(image, parse_firmware_version(version_text, f"{where}/FirmwareVersion"),
                                          version_text, devices)


# -- responses and alerts ---------------------------------------------------------------------------------
def _response(root, signer, targets) -> rec.Message:
    version = _schema_version(root)
    header = _child(root, "Header", "Response")
    raw_request_id = _text(header, "RequestID", "Response/Header", required=False)
    request_id = None if raw_request_id is None else RequestId.parse(raw_request_id, "Response/Header/RequestID")
    raw_response_id = _text(header, "ResponseID", "Response/Header", required=False)
    response_id = None if raw_response_id is None else \
        RequestId.parse(raw_response_id, "Response/Header/ResponseID")
    code = response_code(_text(header, "ResponseCode", "Response/Header"))
    when = _text(header, "ResponseDateTime", "Response/Header")
    body = _only_child(_child(root, "Body", "Response"), "Response/Body")

    if body.tag == sr("ResponseMessage"):
        srv = _text(body, "ServiceReferenceVariant", "ResponseMessage")
        records = _response_message(body, srv, request_id, code, targets)
        return rec.Message("response", version, request_id, response_id, code, when, None, srv, None, records,
                           signer)
    if body.tag == sr("DCCAlertMessage"):
        alert_code = _text(body, "DCCAlertCode", "DCCAlertMessage")
        alert = _only_child(_child(body, "DCCAlert", "DCCAlertMessage"), "DCCAlertMessage/DCCAlert")
        return rec.Message("dcc_alert", version, request_id, response_id, code, when, None, None, alert_code,
                           (_dcc_alert(alert),), signer)
    if body.tag == sr("DeviceAlertMessage"):
        alert_code = _hex(_text(body, "AlertCode", "DeviceAlertMessage"), "DeviceAlertMessage/AlertCode")
        return rec.Message("device_alert", version, request_id, response_id, code, when, None, None, alert_code,
                           (rec.OtherContent("DeviceAlertMessage"),), signer)
    return rec.Message("response", version, request_id, response_id, code, when, None, None, None,
                       (rec.OtherContent(local_name(body.tag)),), signer)


def _response_message(body, srv, request_id, code, targets) -> tuple:
    outcome = None
    if srv == "11.4":
        outcome = rec.DUIS_REJECTED if code.is_error else rec.DUIS_ACKNOWLEDGED
    out = [rec.ServiceResponse(request_id, srv, code, outcome)]
    payload = [c for c in body if isinstance(c.tag, str) and c.tag not in (sr("ServiceReference"),
                                                                          sr("ServiceReferenceVariant"))]
    if len(payload) > 1:
        raise DuisError(f"ResponseMessage: {len(payload)} payload elements; at most one is allowed")
    for element in payload:
        if element.tag == sr("DSPUpdatePPMIDFirmwareWarning"):
            out.extend(_warnings(element, request_id))
        elif element.tag == sr("DSPInventory"):
            out.extend(_inventory_row(device, request_id, targets) for device in _children(element)
                       if _is(device, "Device", "DSPInventory"))
        elif element.tag == sr("GBCSPayload") and srv == "11.2":
            if request_id is None:
                raise DuisError("Response/Header: an SRV 11.2 response without RequestID names no device")
            out.append(rec.FirmwareVersionRead(request_id, request_id.target,
                                               _base64(element.text, "ResponseMessage/GBCSPayload")))
        else:
            out.append(rec.OtherContent(local_name(element.tag)))
    return tuple(out)


def _warnings(element, request_id) -> list:
    out = []
    for child in _children(element):
        name = local_name(child.tag)
        outcome = rec.WARNING_LISTS.get(name) if child.tag == sr(name) else None
        if outcome is None:
            raise DuisError(f"DSPUpdatePPMIDFirmwareWarning: unexpected element {_qname(child.tag)}")
        devices = split_device_id_list(child.text, f"DSPUpdatePPMIDFirmwareWarning/{name}")
        out.append(rec.DspFirmwareWarning(request_id, name, devices, outcome))
    return out


def _inventory_row(device, request_id, targets) -> rec.InventoryDevice:
    where = "DSPInventory/Device"
    device_id = eui_from_text(_text(device, "DeviceID", where), f"{where}/DeviceID")
    device_type = _text(device, "DeviceType", where)
    version_text = _text(device, "DeviceFirmwareVersion", where, required=False)
    version = None if version_text is None else parse_firmware_version(version_text,
                                                                       f"{where}/DeviceFirmwareVersion")
    variant = _text(device, "ESMEVariant", where, required=False) or \
        _text(device, "HANVariant", where, required=False)
    outcome = None
    target = _target_for(targets, device_id, device_type)
    if target is not None:
        outcome = rec.READBACK_CURRENT if version == target else rec.READBACK_MISMATCH
    return rec.InventoryDevice(request_id, device_id, device_type, _text(device, "DeviceStatus", where, False),
                               _text(device, "DeviceManufacturer", where, empty_ok=True),
                               _text(device, "DeviceModel", where, empty_ok=True), version, version_text,
                               _text(device, "DeviceFirmwareVersionStatus", where, False),
                               _text(device, "CPLStatus", where, False), variant, outcome)


def _dcc_alert(alert):
    name = local_name(alert.tag)
    if alert.tag == sr("CSPFirmwareDeliveryStatus"):
        where = name
        status = _enum(_text(alert, "CommsHubTransferStatus", where), rec.DELIVERY_RESULTS,
                       f"{where}/CommsHubTransferStatus")
        return rec.FirmwareDeliveryStatus(
            RequestId.parse(_text(alert, "UpdateFirmwareRequestID", where), f"{where}/UpdateFirmwareRequestID"),
            eui_from_text(_text(alert, "CommsHubDeviceID", where), f"{where}/CommsHubDeviceID"),
            eui_from_text(_text(alert, "TargetDeviceID", where), f"{where}/TargetDeviceID"),
            _text(alert, "FirmwareVersion", where), _text(alert, "TimeStamp", where),
            status == rec.CSP_DELIVERED, status)
    if alert.tag == sr("FirmwareDistributionFailure"):
        where = name
        return rec.FirmwareDistributionFailure(
            RequestId.parse(_text(alert, "UpdateFirmwareRequestID", where), f"{where}/UpdateFirmwareRequestID"),
            split_device_id_list(_text(alert, "MeterIDs", where), f"{where}/MeterIDs"))
    if alert.tag == sr("CommsHubAlert"):
        transfer = _child(alert, "FirmwareTransferAlert", name, required=False)
        if transfer is None:
            return rec.OtherContent(name)
        where = "CommsHubAlert/FirmwareTransferAlert"
        raw_update = _text(transfer, "UpdateFirmwareRequestID", where, required=False)
        result = _text(transfer, "TransferResponseCode", where)
        return rec.FirmwareTransfer(
            eui_from_text(_text(alert, "CommsHubDeviceID", name), f"{name}/CommsHubDeviceID"),
            _hex(_text(alert, "AlertCode", name), f"{name}/AlertCode"), _text(alert, "TimeStamp", name, False),
            None if raw_update is None else RequestId.parse(raw_update, f"{where}/UpdateFirmwareRequestID"),
            eui_from_text(_text(transfer, "OtherDeviceID", where), f"{where}/OtherDeviceID"),
            _text(transfer, "FirmwareVersion", where), result,
            _enum(result, rec.TRANSFER_RESULTS, f"{where}/TransferResponseCode"))
    if alert.tag == sr("PPMIDAlert"):
        upgrade = _child(alert, "PPMIDFirmwareUpgradeAlert", name, required=False)
        if upgrade is None:
            return rec.OtherContent(name)
        where = "PPMIDAlert/PPMIDFirmwareUpgradeAlert"
        version_text = _text(upgrade, "FirmwareVersion", where)
        outcome = _enum(_text(upgrade, "ActivateImageResultCode", where), rec.ACTIVATION_RESULTS,
                        f"{where}/ActivateImageResultCode")
        return rec.FirmwareActivation(
            eui_from_text(_text(alert, "DeviceID", name), f"{name}/DeviceID"),
            _hex(_text(alert, "DeviceAlertCode", name), f"{name}/DeviceAlertCode"),
            _text(alert, "Timestamp", name, False), parse_firmware_version(version_text, f"{where}/FirmwareVersion"),
            version_text, outcome == rec.PPMID_ACTIVATION_SUCCESS, outcome)
    return rec.OtherContent(name)


# -- helpers ----------------------------------------------------------------------------------------------
def _targets(targets):
    if targets is None:
        return None
    if isinstance(targets, Mapping):
        return {eui(k): int(v) for k, v in targets.items()}
    return int(targets)


def _target_for(targets, device_id: str, device_type: str):
    if targets is None:
        return None
    if isinstance(targets, dict):
        return targets.get(device_id)
    return targets if device_type == "PPMID" else None


def _schema_version(root) -> str:
    version = (root.get("schemaVersion") or "").strip()
    if not _SCHEMA_VERSION.match(version):
        raise DuisError(f"{local_name(root.tag)}/@schemaVersion: {version!r} is not a DUIS 5.x schema version")
    return version


def _children(element) -> list:
    return [c for c in element if isinstance(c.tag, str)]


def _is(element, name: str, where: str) -> bool:
    if element.tag != sr(name):
        raise DuisError(f"{where}: unexpected element {_qname(element.tag)} (expected sr:{name})")
    return True


def _child(parent, name: str, where: str, required: bool = True):
    # iterchildren's tag filter runs in C; find() goes through ElementPath
    found = next(parent.iterchildren(sr(name)), None)
    if found is None and required:
        raise DuisError(f"{where}: missing sr:{name}")
    return found


def _only_child(parent, where: str):
    kids = _children(parent)
    if len(kids) != 1:
        raise DuisError(f"{where}: {len(kids)} child elements where exactly one is expected")
    return kids[0]


def _text(parent, name: str, where: str, required: bool = True, empty_ok: bool = False) -> str | None:
    element = _child(parent, name, where, required)
    if element is None:
        return None
    if len(element):
        raise DuisError(f"{where}/{name}: expected text, found child elements")
    text = (element.text or "").strip()
    if not text and not empty_ok:
        raise DuisError(f"{where}/{name}: empty")
    return text


def _value(element, where: str) -> str:
    text = (element.text or "").strip()
    if len(element) and local_name(element.tag) != "PropertyFilter":
        raise DuisError(f"{where}/{local_name(element.tag)}: expected text")
    if local_name(element.tag) == "PropertyFilter":
        return " ".join(f"{local_name(c.tag)}={(c.text or '').strip()}" for c in _children(element))
    if not text:
        raise DuisError(f"{where}/{local_name(element.tag)}: empty")
    return text


def _int(text: str, where: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise DuisError(f"{where}: {text!r} is not a small positive integer")
    return int(text)


def _enum(text: str, allowed: dict, where: str):
    try:
        return allowed[text]
    except KeyError:
        raise DuisError(f"{where}: {text!r} is not one of {', '.join(allowed)}") from None


def _hex(text: str, where: str) -> str:
    if not _HEX.match(text) or len(text) % 2 or len(text) > 64:
        raise DuisError(f"{where}: {text!r} is not hexBinary")
    return text.upper()


def _base64(text: str | None, where: str) -> bytes:
    data = "".join((text or "").split())
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise DuisError(f"{where}: not base64") from None


def _qname(tag) -> str:
    if not isinstance(tag, str):
        return "(not an element)"
    namespace, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    return f"{{{namespace}}}{local}" if namespace else local
