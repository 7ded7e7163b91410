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
    top = _Fields(root, "Request")
    header = _Fields(top.child("Header"), "Request/Header")
    request_id = RequestId.parse(header.text("RequestID"), "Request/Header/RequestID")
    variant = _int(header.text("CommandVariant"), "Request/Header/CommandVariant")
    srv = header.text("ServiceReferenceVariant")
    body = _only_child(top.child("Body"), "Request/Body")
    tag = body.tag
    if tag == _UPDATE_PPMID_FIRMWARE:
        record = _update_ppmid_firmware(_Fields(body, "UpdatePPMIDFirmware"))
    elif tag == _READ_INVENTORY:
        selector = _only_child(body, "ReadInventory")
        record = rec.ReadInventoryRequest(local_name(selector.tag), _value(selector, "ReadInventory"))
        if record.selector == "DeviceID":
            record = rec.ReadInventoryRequest("DeviceID", eui_from_text(record.value, "ReadInventory/DeviceID"))
    elif tag == _DEVICE_PRENOTIFICATION:
        f = _Fields(body, "DevicePrenotification")
        record = rec.DevicePrenotificationRequest(
            f.eui("DeviceID"), f.text("DeviceManufacturer", empty_ok=True), f.text("DeviceModel", empty_ok=True),
            f.text("DeviceType"), f.text("SMETSCHTSVersion", False), f.text("FirmwareVersion", False),
            f.text("ESMEVariant", False))
    elif tag == _READ_FIRMWARE_VERSION:
        record = rec.ReadFirmwareVersionRequest(_Fields(body, "ReadFirmwareVersion").text("ExecutionDateTime", False))
    else:
        record = rec.OtherContent(local_name(tag))
    return rec.Message("request", version, request_id, None, None, None, variant, srv, None, (record,), signer)


def _update_ppmid_firmware(f: "_Fields") -> rec.UpdatePpmidFirmwareRequest:
    image = _base64(f.text("FirmwareImage"), f"{f.where}/FirmwareImage")
    version_text = f.text("FirmwareVersion")
    devices = split_device_id_list(f.text("DeviceIDList"), f"{f.where}/DeviceIDList")
    return rec.UpdatePpmidFirmwareRequest(image, parse_firmware_version(version_text, f"{f.where}/FirmwareVersion"),
                                          version_text, devices)


# -- responses and alerts ---------------------------------------------------------------------------------
def _response(root, signer, targets) -> rec.Message:
    version = _schema_version(root)
    top = _Fields(root, "Response")
    header = _Fields(top.child("Header"), "Response/Header")
    raw_request_id = header.text("RequestID", False)
    request_id = None if raw_request_id is None else RequestId.parse(raw_request_id, "Response/Header/RequestID")
    raw_response_id = header.text("ResponseID", False)
    response_id = None if raw_response_id is None else \
        RequestId.parse(raw_response_id, "Response/Header/ResponseID")
    code = response_code(header.text("ResponseCode"))
    when = header.text("ResponseDateTime")
    body = _only_child(top.child("Body"), "Response/Body")
    tag = body.tag

    if tag == _RESPONSE_MESSAGE:
        f = _Fields(body, "ResponseMessage")
        srv = f.text("ServiceReferenceVariant")
        records = _response_message(f, srv, request_id, code, targets)
        return rec.Message("response", version, request_id, response_id, code, when, None, srv, None, records,
                           signer)
    if tag == _DCC_ALERT_MESSAGE:
        f = _Fields(body, "DCCAlertMessage")
        alert_code = f.text("DCCAlertCode")
        alert = _only_child(f.child("DCCAlert"), "DCCAlertMessage/DCCAlert")
        return rec.Message("dcc_alert", version, request_id, response_id, code, when, None, None, alert_code,
                           (_dcc_alert(alert),), signer)
    if tag == _DEVICE_ALERT_MESSAGE:
        alert_code = _hex(_Fields(body, "DeviceAlertMessage").text("AlertCode"), "DeviceAlertMessage/AlertCode")
        return rec.Message("device_alert", version, request_id, response_id, code, when, None, None, alert_code,
                           (rec.OtherContent("DeviceAlertMessage"),), signer)
    return rec.Message("response", version, request_id, response_id, code, when, None, None, None,
                       (rec.OtherContent(local_name(tag)),), signer)


def _response_message(f: "_Fields", srv, request_id, code, targets) -> tuple:
    outcome = None
    if srv == "11.4":
        outcome = rec.DUIS_REJECTED if code.is_error else rec.DUIS_ACKNOWLEDGED
    out = [rec.ServiceResponse(request_id, srv, code, outcome)]
    payload = [c for t, c in f.kids.items() if t not in _SERVICE_REFERENCES]
    if len(payload) > 1 or f.duplicates:
        raise DuisError(f"ResponseMessage: {len(payload) + f.duplicates} payload elements; at most one is allowed")
    for element in payload:
        tag = element.tag
        if tag == _DSP_WARNING:
            out.extend(_warnings(element, request_id))
        elif tag == _DSP_INVENTORY:
            out.extend(_inventory_row(device, request_id, targets) for device in _children(element)
                       if _is(device, "Device", "DSPInventory"))
        elif tag == _GBCS_PAYLOAD and srv == "11.2":
            if request_id is None:
                raise DuisError("Response/Header: an SRV 11.2 response without RequestID names no device")
            out.append(rec.FirmwareVersionRead(request_id, request_id.target,
                                               _base64(element.text, "ResponseMessage/GBCSPayload")))
        else:
            out.append(rec.OtherContent(local_name(tag)))
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
    f = _Fields(device, "DSPInventory/Device")
    device_id = f.eui("DeviceID")
    device_type = f.text("DeviceType")
    version_text = f.text("DeviceFirmwareVersion", False)
    version = None if version_text is None else parse_firmware_version(version_text,
                                                                       f"{f.where}/DeviceFirmwareVersion")
    variant = f.text("ESMEVariant", False) or f.text("HANVariant", False)
    outcome = None
    target = _target_for(targets, device_id, device_type)
    if target is not None:
        outcome = rec.READBACK_CURRENT if version == target else rec.READBACK_MISMATCH
    return rec.InventoryDevice(request_id, device_id, device_type, f.text("DeviceStatus", False),
                               f.text("DeviceManufacturer", empty_ok=True), f.text("DeviceModel", empty_ok=True),
                               version, version_text, f.text("DeviceFirmwareVersionStatus", False),
                               f.text("CPLStatus", False), variant, outcome)


def _dcc_alert(alert):
    tag = alert.tag
    name = local_name(tag)
    if tag == _CSP_DELIVERY_STATUS:
        f = _Fields(alert, name)
        status = _enum(f.text("CommsHubTransferStatus"), rec.DELIVERY_RESULTS, f"{name}/CommsHubTransferStatus")
        return rec.FirmwareDeliveryStatus(
            f.request_id("UpdateFirmwareRequestID"), f.eui("CommsHubDeviceID"), f.eui("TargetDeviceID"),
            f.text("FirmwareVersion"), f.text("TimeStamp"), status == rec.CSP_DELIVERED, status)
    if tag == _DISTRIBUTION_FAILURE:
        f = _Fields(alert, name)
        return rec.FirmwareDistributionFailure(f.request_id("UpdateFirmwareRequestID"),
                                               split_device_id_list(f.text("MeterIDs"), f"{name}/MeterIDs"))
    if tag == _COMMS_HUB_ALERT:
        f = _Fields(alert, name)
        t = f.nested("FirmwareTransferAlert")
        if t is None:                   # a Comms Hub alert about something else
            return rec.OtherContent(name)
        result = t.text("TransferResponseCode")
        return rec.FirmwareTransfer(
            f.eui("CommsHubDeviceID"), _hex(f.text("AlertCode"), f"{name}/AlertCode"), f.text("TimeStamp", False),
            t.request_id("UpdateFirmwareRequestID", False), t.eui("OtherDeviceID"), t.text("FirmwareVersion"),
            result, _enum(result, rec.TRANSFER_RESULTS, f"{t.where}/TransferResponseCode"))
    if tag == _PPMID_ALERT:
        f = _Fields(alert, name)
        u = f.nested("PPMIDFirmwareUpgradeAlert")
        if u is None:
            return rec.OtherContent(name)
        version_text = u.text("FirmwareVersion")
        outcome = _enum(u.text("ActivateImageResultCode"), rec.ACTIVATION_RESULTS,
                        f"{u.where}/ActivateImageResultCode")
        return rec.FirmwareActivation(
            f.eui("DeviceID"), _hex(f.text("DeviceAlertCode"), f"{name}/DeviceAlertCode"), f.text("Timestamp", False),
            parse_firmware_version(version_text, f"{u.where}/FirmwareVersion"), version_text,
            outcome == rec.PPMID_ACTIVATION_SUCCESS, outcome)
    return rec.OtherContent(name)


_UPDATE_PPMID_FIRMWARE, _READ_INVENTORY, _DEVICE_PRENOTIFICATION, _READ_FIRMWARE_VERSION = (
    sr("UpdatePPMIDFirmware"), sr("ReadInventory"), sr("DevicePrenotification"), sr("ReadFirmwareVersion"))
_RESPONSE_MESSAGE, _DCC_ALERT_MESSAGE, _DEVICE_ALERT_MESSAGE = (
    sr("ResponseMessage"), sr("DCCAlertMessage"), sr("DeviceAlertMessage"))
_SERVICE_REFERENCES = frozenset({sr("ServiceReference"), sr("ServiceReferenceVariant")})
_DSP_WARNING, _DSP_INVENTORY, _GBCS_PAYLOAD = sr("DSPUpdatePPMIDFirmwareWarning"), sr("DSPInventory"), sr("GBCSPayload")
_CSP_DELIVERY_STATUS, _DISTRIBUTION_FAILURE, _COMMS_HUB_ALERT, _PPMID_ALERT = (
    sr("CSPFirmwareDeliveryStatus"), sr("FirmwareDistributionFailure"), sr("CommsHubAlert"), sr("PPMIDAlert"))


class _Fields:
    """An element's child elements by tag, read once (each access to an lxml child costs a proxy object)."""

    __slots__ = ("where", "kids", "duplicates")

    def __init__(self, element, where: str):
        self.where = where
        kids: dict = {}
        duplicates = 0
        for child in element:
            tag = child.tag
            if isinstance(tag, str):
                if tag in kids:
                    duplicates += 1
                else:
                    kids[tag] = child
        self.kids = kids
        self.duplicates = duplicates

    def child(self, name: str, required: bool = True):
        found = self.kids.get(_SR_PREFIX + name)
        if found is None and required:
            raise DuisError(f"{self.where}: missing sr:{name}")
        return found

    def nested(self, name: str) -> "_Fields | None":
        """The optional child ``name``'s own fields, or None."""
        element = self.child(name, False)
        return None if element is None else _Fields(element, f"{self.where}/{name}")

    def text(self, name: str, required: bool = True, empty_ok: bool = False) -> str | None:
        element = self.child(name, required)
        if element is None:
            return None
        if len(element):
            raise DuisError(f"{self.where}/{name}: expected text, found child elements")
        text = (element.text or "").strip()
        if not text and not empty_ok:
            raise DuisError(f"{self.where}/{name}: empty")
        return text

    def eui(self, name: str) -> str:
        return eui_from_text(self.text(name), f"{self.where}/{name}")

    def request_id(self, name: str, required: bool = True) -> RequestId | None:
        text = self.text(name, required)
        return None if text is None else RequestId.parse(text, f"{self.where}/{name}")


_SR_PREFIX = f"{{{SR}}}"


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


def _only_child(parent, where: str):
    kids = _children(parent)
    if len(kids) != 1:
        raise DuisError(f"{where}: {len(kids)} child elements where exactly one is expected")
    return kids[0]


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
