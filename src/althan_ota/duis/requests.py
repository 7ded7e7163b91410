"""Building the DUIS requests of a PPMID firmware campaign, each valid against DUIS Schema V5.4:

- SRV 11.4 Update PPMID Firmware: the GB/ZigBee image, its version and up to 50,000 PPMIDs; a non-device
  request, so its target is the DSP;
- SRV 8.2 Read Inventory (by device ID): the SMI's view of a device, its firmware version among it;
- SRV 12.2 Device Pre-notification: a device about to be installed;
- SRV 11.2 Read Firmware Version: a device request (its target is the device).

Each builder returns the request's root element, unsigned; :class:`.Signer` signs and serialises it. The
header's RequestID is ``user:target:counter``, the counter strictly increasing per user
(``CampaignStore.next_request_counters`` keeps it across runs).
"""

from __future__ import annotations

import base64
import datetime as dt

from lxml import etree

from ..errors import ParameterError
from . import names
from .identifiers import RequestId, device_id_list, eui, firmware_version
from .names import sr

# Service Reference Variant -> (body element, Command Variant): 8 is a non-device request answered by the DCC
# synchronously, 1 an on-demand device request answered asynchronously (DUIS 3.2, CommandVariant)
SERVICES = {
    "11.4": ("UpdatePPMIDFirmware", 8),
    "8.2": ("ReadInventory", 8),
    "12.2": ("DevicePrenotification", 8),
    "11.2": ("ReadFirmwareVersion", 1),
}
DEVICE_TYPES = ("ESME", "GSME", "GPF", "CHF", "HCALCS", "PPMID", "IHD", "CAD")


def request_root(srv: str, request_id: RequestId, command_variant: int | None = None,
                 schema_version: str = names.SCHEMA_VERSION) -> tuple[etree._Element, etree._Element]:
    """An ``sr:Request`` with its header filled in; returns (root, body) for the caller to add the body's
    element to."""
    if srv not in SERVICES:
        raise ParameterError(f"no builder for SRV {srv!r}; known: {', '.join(SERVICES)}")
    if not isinstance(request_id, RequestId):
        raise ParameterError("request_id must be a RequestId (RequestId.make(user, target, counter))")
    root = etree.Element(sr("Request"), nsmap={"sr": names.SR}, schemaVersion=schema_version)
    header = etree.SubElement(root, sr("Header"))
    etree.SubElement(header, sr("RequestID")).text = str(request_id)
    etree.SubElement(header, sr("CommandVariant")).text = str(command_variant or SERVICES[srv][1])
    etree.SubElement(header, sr("ServiceReference")).text = srv
    etree.SubElement(header, sr("ServiceReferenceVariant")).text = srv
    return root, etree.SubElement(root, sr("Body"))


def update_ppmid_firmware(image, device_ids, *, user_id, dsp_id, counter: int, version: int | None = None,
                          image_base64: str | None = None) -> etree._Element:
    """SRV 11.4 for ``device_ids`` (1 to 50,000 PPMIDs). ``image`` is the GB or ZigBee OTA image as sent to
    the devices; ``version`` defaults to the file version in its OTA header (and must match it if given).
    ``image_base64`` may carry the image already encoded, to encode it once for many requests."""
    from ..image import parse as parse_image

    data = bytes(image)
    if len(data) > names.MAX_FIRMWARE_IMAGE:
        raise ParameterError(f"the image is {len(data):,} bytes; DUIS allows {names.MAX_FIRMWARE_IMAGE:,}")
    header_version = parse_image(data).file_version
    if version is None:
        version = header_version
    elif version != header_version:
        raise ParameterError(f"version 0x{version:08X} is not the image's file version 0x{header_version:08X}")
    ids = list(device_ids)
    if len(ids) > names.MAX_DEVICE_IDS:
        raise ParameterError(f"{len(ids):,} devices; one SRV 11.4 names at most {names.MAX_DEVICE_IDS:,} "
                             f"(split them with split_device_ids)")
    root, body = request_root("11.4", RequestId.make(user_id, dsp_id, counter))
    update = etree.SubElement(body, sr("UpdatePPMIDFirmware"))
    etree.SubElement(update, sr("FirmwareImage")).text = \
        image_base64 if image_base64 is not None else base64.b64encode(data).decode("ascii")
    etree.SubElement(update, sr("FirmwareVersion")).text = firmware_version(version)
    etree.SubElement(update, sr("DeviceIDList")).text = device_id_list(ids)
    return root


def split_device_ids(device_ids, size: int = names.MAX_DEVICE_IDS) -> list[list[str]]:
    """``device_ids`` in lists of at most ``size`` (the most one SRV 11.4 may name)."""
    if not 1 <= size <= names.MAX_DEVICE_IDS:
        raise ParameterError(f"size must be 1..{names.MAX_DEVICE_IDS}")
    ids = list(device_ids)
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def read_inventory(device_id, *, user_id, dsp_id, counter: int) -> etree._Element:
    """SRV 8.2 Read Inventory of one device."""
    root, body = request_root("8.2", RequestId.make(user_id, dsp_id, counter))
    etree.SubElement(etree.SubElement(body, sr("ReadInventory")), sr("DeviceID")).text = eui(device_id)
    return root


def device_prenotification(device_id, *, manufacturer: str, model: str, device_type: str = "PPMID",
                           firmware_version_text: str | None = None, smets_chts_version: str | None = None,
                           esme_variant: str | None = None, user_id, dsp_id, counter: int) -> etree._Element:
    """SRV 12.2 Device Pre-notification. DUIS 5.4 carries no PPMID variant: the bridge's side is not sent."""
    if device_type not in DEVICE_TYPES:
        raise ParameterError(f"device type {device_type!r}; DUIS knows {', '.join(DEVICE_TYPES)}")
    for what, value, limit in (("manufacturer", manufacturer, 30), ("model", model, 30),
                               ("SMETS/CHTS version", smets_chts_version, 20), ("firmware version",
                                                                               firmware_version_text, 8)):
        if value is not None and not (0 < len(value) <= limit):
            raise ParameterError(f"{what} {value!r}: DUIS allows 1 to {limit} characters")
    root, body = request_root("12.2", RequestId.make(user_id, dsp_id, counter))
    notice = etree.SubElement(body, sr("DevicePrenotification"))
    etree.SubElement(notice, sr("DeviceID")).text = eui(device_id)
    etree.SubElement(notice, sr("DeviceManufacturer")).text = manufacturer
    etree.SubElement(notice, sr("DeviceModel")).text = model
    etree.SubElement(notice, sr("DeviceType")).text = device_type
    if smets_chts_version is not None:
        etree.SubElement(notice, sr("SMETSCHTSVersion")).text = smets_chts_version
    if firmware_version_text is not None:
        etree.SubElement(notice, sr("FirmwareVersion")).text = firmware_version_text
    if esme_variant is not None:
        etree.SubElement(notice, sr("ESMEVariant")).text = esme_variant
    return root


def read_firmware_version(device_id, *, user_id, counter: int,
                          execution_datetime: dt.datetime | None = None) -> etree._Element:
    """SRV 11.2 Read Firmware Version of one device, on demand (or future-dated with ``execution_datetime``)."""
    root, body = request_root("11.2", RequestId.make(user_id, device_id, counter))
    read = etree.SubElement(body, sr("ReadFirmwareVersion"))
    if execution_datetime is not None:
        etree.SubElement(read, sr("ExecutionDateTime")).text = xml_datetime(execution_datetime)
    return root


def xml_datetime(value) -> str:
    """An xs:dateTime in UTC with milliseconds, as the DCC writes them (``2025-12-28T16:51:01.185Z``)."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dt.datetime):
        raise ParameterError(f"expected a datetime, not {type(value).__name__}")
    if value.tzinfo is None:
        raise ParameterError("give an aware datetime (e.g. tzinfo=datetime.timezone.utc)")
    value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
