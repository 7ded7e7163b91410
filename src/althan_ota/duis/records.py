"""What a parsed DUIS message is: a :class:`Message` (its header) and typed records, one per thing it says.

Every record that moves a device through a campaign carries ``outcome``, a key of the campaign's outcome table
(``althan_ota.campaign.outcomes``; the keys are listed in :data:`OUTCOME_KEYS`), or None when it moves no
device. ``device_ids`` names the devices it is about; an empty tuple on a response means every device of the
request its ``request_id`` names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .codes import ResponseCode
from .identifiers import RequestId

# outcome keys the parser emits (duis_no_response is the campaign's own: nothing was heard in time)
DUIS_ACKNOWLEDGED = "duis_acknowledged"
DUIS_REJECTED = "duis_rejected"
DUIS_NOT_APPLICABLE = "duis_not_applicable"
DUIS_NOT_COMMISSIONED = "duis_not_commissioned"
DUIS_REQUEST_IN_PROGRESS = "duis_request_in_progress"
CSP_DELIVERED = "csp_delivered"
CSP_DELIVERY_FAILED = "csp_delivery_failed"
CH_TRANSFER_SUCCESS = "ch_transfer_success"
CH_IMAGE_DISCARDED = "ch_image_discarded"
CH_HARDWARE_MISMATCH = "ch_hardware_mismatch"
CH_TRANSFER_FAILURE = "ch_transfer_failure"
PPMID_ACTIVATION_SUCCESS = "ppmid_activation_success"
PPMID_ACTIVATION_FAILURE = "ppmid_activation_failure"
READBACK_CURRENT = "readback_current"
READBACK_MISMATCH = "readback_mismatch"

OUTCOME_KEYS = (DUIS_ACKNOWLEDGED, DUIS_REJECTED, DUIS_NOT_APPLICABLE, DUIS_NOT_COMMISSIONED,
                DUIS_REQUEST_IN_PROGRESS, CSP_DELIVERED, CSP_DELIVERY_FAILED, CH_TRANSFER_SUCCESS,
                CH_IMAGE_DISCARDED, CH_HARDWARE_MISMATCH, CH_TRANSFER_FAILURE, PPMID_ACTIVATION_SUCCESS,
                PPMID_ACTIVATION_FAILURE, READBACK_CURRENT, READBACK_MISMATCH)

# DSPUpdatePPMIDFirmwareWarning: the list a device is named in -> its outcome
WARNING_LISTS = {
    "InvalidDeviceIDList": DUIS_NOT_APPLICABLE,
    "NotCommissionedDeviceIDList": DUIS_NOT_COMMISSIONED,
    "NotApplicableFirmwareDeviceIDList": DUIS_NOT_APPLICABLE,
    "OtherRequestInProgressList": DUIS_REQUEST_IN_PROGRESS,
    "InvalidGBCSVersionList": DUIS_NOT_APPLICABLE,
}
TRANSFER_RESULTS = {
    "FileTransferSuccess": CH_TRANSFER_SUCCESS,
    "FirmwareImageDiscarded": CH_IMAGE_DISCARDED,
    "HardwareVersionMismatch": CH_HARDWARE_MISMATCH,
    "FileTransferFailure": CH_TRANSFER_FAILURE,
}
ACTIVATION_RESULTS = {"ActivationSuccess": PPMID_ACTIVATION_SUCCESS, "ActivationFailure": PPMID_ACTIVATION_FAILURE}
DELIVERY_RESULTS = {"Success": CSP_DELIVERED, "Failure": CSP_DELIVERY_FAILED}


class _Compact:
    """Pickles as (class, field values): records cross process boundaries in bulk (see :mod:`.bulk`), and the
    generic dataclass state protocol costs several times more."""

    __slots__ = ()

    def __reduce__(self):
        return type(self), tuple(getattr(self, name) for name in self.__slots__)


# -- responses and alerts ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ServiceResponse(_Compact):
    """The response to a request as its header states it (for SRV 11.4: the acknowledgement)."""

    request_id: RequestId | None
    service_reference_variant: str
    code: ResponseCode
    outcome: str | None
    device_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DspFirmwareWarning(_Compact):
    """One list of a DSPUpdatePPMIDFirmwareWarning: devices of an SRV 11.4 the DSP will not update."""

    request_id: RequestId | None
    list_name: str              # e.g. NotCommissionedDeviceIDList
    device_ids: tuple[str, ...]
    outcome: str


@dataclass(frozen=True, slots=True)
class InventoryDevice(_Compact):
    """One Device row of an SRV 8.2 Read Inventory response (DSPInventory)."""

    request_id: RequestId | None
    device_id: str
    device_type: str            # ESME, GSME, GPF, CHF, HCALCS, PPMID, IHD, CAD
    device_status: str | None   # SMI status, e.g. Commissioned
    manufacturer: str
    model: str
    firmware_version: int | None        # the 4-octet version, when DeviceFirmwareVersion is 8 hex digits
    firmware_version_text: str | None   # DeviceFirmwareVersion as sent
    firmware_version_status: str | None
    cpl_status: str | None
    variant: str | None         # ESMEVariant or HANVariant (DUIS 5.4 has no PPMID variant element)
    outcome: str | None         # readback_current / readback_mismatch when a target version was given

    @property
    def device_ids(self) -> tuple[str, ...]:
        return (self.device_id,)


@dataclass(frozen=True, slots=True)
class FirmwareVersionRead(_Compact):
    """An SRV 11.2 Read Firmware Version response: the device's answer travels as a GBCS payload."""

    request_id: RequestId | None
    device_id: str              # the request's target
    gbcs_payload: bytes
    outcome: str | None = None

    @property
    def device_ids(self) -> tuple[str, ...]:
        return (self.device_id,)


@dataclass(frozen=True, slots=True)
class FirmwareDeliveryStatus(_Compact):
    """DCC alert CSPFirmwareDeliveryStatus: the image reached (or did not reach) the device's Comms Hub."""

    update_request_id: RequestId
    ch_id: str
    device_id: str
    firmware_version_text: str
    timestamp: str
    delivered: bool
    outcome: str

    @property
    def device_ids(self) -> tuple[str, ...]:
        return (self.device_id,)


@dataclass(frozen=True, slots=True)
class FirmwareDistributionFailure(_Compact):
    """DCC alert FirmwareDistributionFailure: the DCC could not distribute the image to these devices."""

    update_request_id: RequestId
    device_ids: tuple[str, ...]
    outcome: str = CSP_DELIVERY_FAILED


@dataclass(frozen=True, slots=True)
class FirmwareTransfer(_Compact):
    """DCC alert CommsHubAlert / FirmwareTransferAlert: the Comms Hub's transfer of the image to the device."""

    ch_id: str
    alert_code: str             # the Comms Hub's alert code, hex
    timestamp: str | None
    update_request_id: RequestId | None
    device_id: str              # OtherDeviceID
    firmware_version_text: str
    result: str                 # FileTransferSuccess, FirmwareImageDiscarded, HardwareVersionMismatch, ...
    outcome: str

    @property
    def device_ids(self) -> tuple[str, ...]:
        return (self.device_id,)


@dataclass(frozen=True, slots=True)
class FirmwareActivation(_Compact):
    """DCC alert PPMIDAlert / PPMIDFirmwareUpgradeAlert: the PPMID activated (or failed to activate) an image."""

    device_id: str
    alert_code: str             # the device alert code, hex
    timestamp: str | None
    firmware_version: int | None
    firmware_version_text: str
    activated: bool
    outcome: str

    @property
    def device_ids(self) -> tuple[str, ...]:
        return (self.device_id,)


@dataclass(frozen=True, slots=True)
class OtherContent(_Compact):
    """A valid DUIS body this layer does not interpret (another alert or response type): kept by name."""

    element: str
    outcome: None = None
    device_ids: tuple[str, ...] = ()


# -- requests (what a DCC stand-in reads) -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UpdatePpmidFirmwareRequest(_Compact):
    image: bytes = field(repr=False)
    firmware_version: int | None
    firmware_version_text: str
    device_ids: tuple[str, ...]
    outcome: None = None


@dataclass(frozen=True, slots=True)
class ReadInventoryRequest(_Compact):
    selector: str               # DeviceID, UPRN, MPxN or PropertyFilter
    value: str
    outcome: None = None

    @property
    def device_ids(self) -> tuple[str, ...]:
        return (self.value,) if self.selector == "DeviceID" else ()


@dataclass(frozen=True, slots=True)
class DevicePrenotificationRequest(_Compact):
    device_id: str
    manufacturer: str
    model: str
    device_type: str
    smets_chts_version: str | None
    firmware_version_text: str | None
    esme_variant: str | None
    outcome: None = None

    @property
    def device_ids(self) -> tuple[str, ...]:
        return (self.device_id,)


@dataclass(frozen=True, slots=True)
class ReadFirmwareVersionRequest(_Compact):
    execution_datetime: str | None
    outcome: None = None
    device_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Message(_Compact):
    """A parsed DUIS message: its header, the records of its body and who signed it."""

    kind: str                   # request, response, device_alert or dcc_alert
    schema_version: str
    request_id: RequestId | None
    response_id: RequestId | None
    response_code: ResponseCode | None
    response_datetime: str | None
    command_variant: int | None
    service_reference_variant: str | None
    alert_code: str | None      # DCCAlertCode (dcc_alert) or AlertCode (device_alert)
    records: tuple
    signer: object | None = None        # a SignerInfo when the message was verified

    def outcomes(self) -> list[tuple[str, str]]:
        """(device ID, outcome key) for every device a record moves; a record about a whole request (no
        device IDs) gives ('', outcome)."""
        out = []
        for record in self.records:
            if record.outcome is not None:
                out.extend((d, record.outcome) for d in (record.device_ids or ("",)))
        return out


def as_dict(value):
    """A JSON-ready view of a :class:`Message` or record: request IDs as text, response codes with their
    meaning, firmware versions as ``0x01040000``, certificate serials as text, a firmware image as its size and
    SHA-256, other bytes (GBCS payloads) in base64."""
    import base64
    import dataclasses
    import hashlib

    if isinstance(value, RequestId):
        return str(value)
    if isinstance(value, ResponseCode):
        return {"code": value.code, "severity": value.severity, "meaning": value.meaning}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"type": type(value).__name__} if not isinstance(value, Message) else {}
        if isinstance(value, UpdatePpmidFirmwareRequest):       # the image as its size and digest
            out.update(image_bytes=len(value.image), image_sha256=hashlib.sha256(value.image).hexdigest())
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name == "image":
                continue
            if f.name == "firmware_version" and isinstance(item, int):
                out[f.name] = f"0x{item:08X}"         # as operators write versions
            elif f.name == "serial" and isinstance(item, int):
                out[f.name] = str(item)               # certificate serials pass 2^53: JSON readers would round
            else:
                out[f.name] = as_dict(item)
        return out
    if isinstance(value, (tuple, list)):
        return [as_dict(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value
