"""Building what the DCC sends back, for a DCC stand-in (signed with the DSP's key by :class:`.Signer`):
the synchronous response to a request, SRV 8.2 inventory and SRV 11.2 answers, and the DCC alerts of a PPMID
firmware update (CSP delivery status, distribution failure, the Comms Hub's transfer alert, the PPMID's
activation alert). Every builder returns an unsigned ``sr:Response`` root element, valid against DUIS 5.4.

DCC alerts carry a DUIS DCC Alert Code (``N..``) and device alerts a GBCS alert code: the caller gives them
(this layer's parser reads the alert's body, not its code).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from lxml import etree

from ..errors import ParameterError
from . import names
from .codes import RESPONSE_CODES
from .identifiers import RequestId, device_id_list, eui, firmware_version
from .names import sr
from .records import TRANSFER_RESULTS, WARNING_LISTS
from .requests import xml_datetime


def response_root(code: str, when, *, request_id: RequestId | None = None,
                  response_id: RequestId | None = None,
                  schema_version: str = names.SCHEMA_VERSION) -> tuple[etree._Element, etree._Element]:
    """An ``sr:Response`` with its header; returns (root, body)."""
    if code not in RESPONSE_CODES:
        raise ParameterError(f"{code!r} is not a DUIS response code")
    root = etree.Element(sr("Response"), nsmap={"sr": names.SR}, schemaVersion=schema_version)
    header = etree.SubElement(root, sr("Header"))
    if request_id is not None:
        etree.SubElement(header, sr("RequestID")).text = str(request_id)
    if response_id is not None:
        etree.SubElement(header, sr("ResponseID")).text = str(response_id)
    etree.SubElement(header, sr("ResponseCode")).text = code
    etree.SubElement(header, sr("ResponseDateTime")).text = xml_datetime(when)
    return root, etree.SubElement(root, sr("Body"))


def _response_message(body, srv: str) -> etree._Element:
    message = etree.SubElement(body, sr("ResponseMessage"))
    etree.SubElement(message, sr("ServiceReference")).text = srv
    etree.SubElement(message, sr("ServiceReferenceVariant")).text = srv
    return message


def service_response(request_id: RequestId, srv: str, code: str, when,
                     warnings: dict | None = None) -> etree._Element:
    """The synchronous response to a request: ``code`` I0 / I99 when accepted, an E or W code otherwise. For
    SRV 11.4, ``warnings`` maps DSPUpdatePPMIDFirmwareWarning list names (e.g. NotCommissionedDeviceIDList)
    to the devices the DSP will not update."""
    root, body = response_root(code, when, request_id=request_id)
    message = _response_message(body, srv)
    lists = {k: v for k, v in (warnings or {}).items() if v}
    if lists:
        if srv != "11.4":
            raise ParameterError("DSPUpdatePPMIDFirmwareWarning answers SRV 11.4 only")
        unknown = set(lists) - set(WARNING_LISTS)
        if unknown:
            raise ParameterError(f"unknown warning lists {sorted(unknown)}; known: {list(WARNING_LISTS)}")
        warning = etree.SubElement(message, sr("DSPUpdatePPMIDFirmwareWarning"))
        for name in WARNING_LISTS:             # the schema's order
            if name in lists:
                etree.SubElement(warning, sr(name)).text = device_id_list(lists[name])
    return root


@dataclass(frozen=True)
class InventoryEntry:
    """One device as an SRV 8.2 response lists it."""

    device_id: str
    device_type: str
    manufacturer: str
    model: str
    device_status: str | None = None
    firmware_version: int | None = None
    firmware_version_status: str | None = "Active"
    cpl_status: str | None = "Active"


def read_inventory_response(request_id: RequestId, devices, when) -> etree._Element:
    """SRV 8.2 response listing ``devices`` (1 to 17 :class:`InventoryEntry`)."""
    devices = list(devices)
    if not 1 <= len(devices) <= names.MAX_INVENTORY_DEVICES:
        raise ParameterError(f"an 8.2 response lists 1 to {names.MAX_INVENTORY_DEVICES} devices, "
                             f"not {len(devices)}")
    root, body = response_root("I0", when, request_id=request_id)
    inventory = etree.SubElement(_response_message(body, "8.2"), sr("DSPInventory"))
    for entry in devices:
        device = etree.SubElement(inventory, sr("Device"))
        etree.SubElement(device, sr("DeviceID")).text = eui(entry.device_id)
        etree.SubElement(device, sr("DeviceType")).text = entry.device_type
        if entry.device_status is not None:
            etree.SubElement(device, sr("DeviceStatus")).text = entry.device_status
        etree.SubElement(device, sr("DeviceManufacturer")).text = entry.manufacturer
        etree.SubElement(device, sr("DeviceModel")).text = entry.model
        if entry.firmware_version is not None:
            etree.SubElement(device, sr("DeviceFirmwareVersion")).text = firmware_version(entry.firmware_version)
        if entry.firmware_version_status is not None:
            etree.SubElement(device, sr("DeviceFirmwareVersionStatus")).text = entry.firmware_version_status
        if entry.cpl_status is not None:
            etree.SubElement(device, sr("CPLStatus")).text = entry.cpl_status
    return root


def read_firmware_version_response(request_id: RequestId, gbcs_payload: bytes, when, *,
                                   response_counter: int) -> etree._Element:
    """SRV 11.2 response: the device's GBCS response, from the device (ResponseID device:user:counter)."""
    response_id = RequestId.make(request_id.target, request_id.originator, response_counter)
    root, body = response_root("I0", when, request_id=request_id, response_id=response_id)
    etree.SubElement(_response_message(body, "11.2"), sr("GBCSPayload")).text = \
        base64.b64encode(bytes(gbcs_payload)).decode("ascii")
    return root


def dcc_alert(dcc_alert_code: str, alert: etree._Element, when, *, dsp_id, user_id,
              counter: int) -> etree._Element:
    """A DCC alert from the DSP to a user, carrying ``alert`` (built by one of the functions below)."""
    root, body = response_root("I0", when, response_id=RequestId.make(dsp_id, user_id, counter))
    message = etree.SubElement(body, sr("DCCAlertMessage"))
    etree.SubElement(message, sr("DCCAlertCode")).text = dcc_alert_code
    etree.SubElement(message, sr("DCCAlert")).append(alert)
    return root


def csp_firmware_delivery_status(update_request_id: RequestId, ch_id, device_id, version: int, timestamp,
                                 delivered: bool) -> etree._Element:
    alert = etree.Element(sr("CSPFirmwareDeliveryStatus"))
    etree.SubElement(alert, sr("UpdateFirmwareRequestID")).text = str(update_request_id)
    etree.SubElement(alert, sr("CommsHubDeviceID")).text = eui(ch_id)
    etree.SubElement(alert, sr("TargetDeviceID")).text = eui(device_id)
    etree.SubElement(alert, sr("FirmwareVersion")).text = firmware_version(version)
    etree.SubElement(alert, sr("TimeStamp")).text = xml_datetime(timestamp)
    etree.SubElement(alert, sr("CommsHubTransferStatus")).text = "Success" if delivered else "Failure"
    return alert


def firmware_distribution_failure(update_request_id: RequestId, device_ids) -> etree._Element:
    alert = etree.Element(sr("FirmwareDistributionFailure"))
    etree.SubElement(alert, sr("UpdateFirmwareRequestID")).text = str(update_request_id)
    etree.SubElement(alert, sr("MeterIDs")).text = device_id_list(device_ids)
    return alert


def comms_hub_firmware_transfer(ch_id, alert_code: str, device_id, version: int, result: str, *,
                                update_request_id: RequestId | None = None, timestamp=None) -> etree._Element:
    """CommsHubAlert / FirmwareTransferAlert; ``result`` one of FileTransferSuccess, FirmwareImageDiscarded,
    HardwareVersionMismatch, FileTransferFailure."""
    if result not in TRANSFER_RESULTS:
        raise ParameterError(f"transfer result {result!r}; one of {', '.join(TRANSFER_RESULTS)}")
    alert = etree.Element(sr("CommsHubAlert"))
    etree.SubElement(alert, sr("CommsHubDeviceID")).text = eui(ch_id)
    etree.SubElement(alert, sr("AlertCode")).text = _hex(alert_code)
    if timestamp is not None:
        etree.SubElement(alert, sr("TimeStamp")).text = xml_datetime(timestamp)
    transfer = etree.SubElement(alert, sr("FirmwareTransferAlert"))
    if update_request_id is not None:
        etree.SubElement(transfer, sr("UpdateFirmwareRequestID")).text = str(update_request_id)
    etree.SubElement(transfer, sr("OtherDeviceID")).text = eui(device_id)
    etree.SubElement(transfer, sr("FirmwareVersion")).text = firmware_version(version)
    etree.SubElement(transfer, sr("TransferResponseCode")).text = result
    return alert


def ppmid_firmware_activation(device_id, alert_code: str, version: int, activated: bool, *,
                              timestamp=None) -> etree._Element:
    """PPMIDAlert / PPMIDFirmwareUpgradeAlert: ActivationSuccess or ActivationFailure with the version."""
    alert = etree.Element(sr("PPMIDAlert"))
    etree.SubElement(alert, sr("DeviceID")).text = eui(device_id)
    etree.SubElement(alert, sr("DeviceAlertCode")).text = _hex(alert_code)
    if timestamp is not None:
        etree.SubElement(alert, sr("Timestamp")).text = xml_datetime(timestamp)
    upgrade = etree.SubElement(alert, sr("PPMIDFirmwareUpgradeAlert"))
    etree.SubElement(upgrade, sr("FirmwareVersion")).text = firmware_version(version)
    etree.SubElement(upgrade, sr("ActivateImageResultCode")).text = \
        "ActivationSuccess" if activated else "ActivationFailure"
    return alert


def _hex(code: str) -> str:
    text = code.strip().upper()
    if text.startswith("0X"):
        text = text[2:]
    if not text or len(text) % 2 or any(c not in "0123456789ABCDEF" for c in text):
        raise ParameterError(f"alert code {code!r} is not hex octets (e.g. 8F84)")
    return text
