"""DUIS response codes (DUIS section 3.5: the ``ResponseCode`` of every response header).

The set of codes is the ``ResponseCode`` enumeration of DUIS Schema V5.4 (all 194 of them). The meanings of
the generic codes I0 to E30 are DUIS's own wording ("DCC Systems Response Codes", as reproduced from DUIS by
the SMETS2 reference at iananthony3000.wixsite.com/smets2reference-1). DUIS's text for the other generic codes
(E31 to E1011) and for the Service Request specific codes was not available to this project: those are
described by what their structure says (a generic DCC code; or ``E``/``W`` + the two-digit major and minor
numbers of the Service Reference + a sequence number, e.g. E110401 is error 01 of SR 11.4) and flagged with
``documented = False``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DuisError

INFORMATION, WARNING, ERROR = "information", "warning", "error"


@dataclass(frozen=True, slots=True)
class ResponseCode:
    code: str
    severity: str                 # information, warning or error
    meaning: str
    documented: bool              # the meaning is DUIS's text (False: derived from the code's structure)
    service_reference: str | None = None     # for Service Request specific codes, e.g. "11.4"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __reduce__(self):               # one shared table entry per code, also after pickling
        return response_code, (self.code,)


_DUIS_TEXT = {
    "I0": "Success: the Request has had a successful outcome",
    "I99": "Acknowledgement: the Request received for sending to the Device has been accepted and has passed "
           "access control; or the response to a successful Non-Device Service Request that carries no "
           "specific XML data",
    "E1": "Failed Authorisation - Invalid User / User Role: the combination is not a valid SEC party / User Role",
    "E2": "Failed Authorisation - Invalid User Role / Service Reference: the User Role is not permitted to send "
          "the Service Reference",
    "E3": "Failed Authorisation - Invalid User Status: the User Status does not permit sending the Service "
          "Reference",
    "E4": "Failed Authorisation - Invalid User / User Role for Device: the User Role is not authorised for the "
          "Device at the required date and time",
    "E5": "Failed Authorisation - Invalid Device Status: the Device's SMI status is incompatible with the "
          "Service Reference",
    "E11": "Failed Validation - Invalid Service Request / device type combination: the Service Reference is not "
           "compatible with the specified Device",
    "E12": "Failed Validation - Invalid Request / Command Variant combination: the Command Variant does not "
           "apply to the Request type",
    "E13": "Failed Validation - Invalid Request Type for URL, e.g. a Non-Device Service Request sent to the "
           "Transform URL",
    "E17": "Failed Authorisation - the Service Request or Signed Pre-Command is not available for Local Command "
           "Services: the User Role / Device status combination does not permit a Command for local delivery",
    "E19": "Failed Authorisation - Device does not exist: invalid Device ID",
    "E20": "Communications Failure - Unable to Communicate with Device: the DCC Systems cannot establish "
           "communications with the Device",
    "E21": "Communications Failure - No Response Received from Device, for an On Demand or a Future Dated "
           "Command",
    "E30": "Time-out - Future Dated Command",
}

# the Service References whose specific codes this project deals with
_SERVICE_NAMES = {"8.2": "Read Inventory", "11.1": "Update Firmware", "11.2": "Read Firmware Version",
                  "11.4": "Update PPMID Firmware", "12.2": "Device Pre-notification"}

# DUIS Schema V5.4, simpleType ResponseCode, in schema order
ALL_CODES = (
    "I0 I99 E1 E2 E3 E4 E5 E11 E12 E13 E17 E19 E20 E21 E30 E31 E40 E41 E42 E43 E44 E45 E46 E47 E48 E49 E50 "
    "E51 E52 E53 E54 E55 E56 E57 E58 E59 E60 E61 E62 E63 E64 E65 E66 E67 E68 E69 E70 E71 E100 E1000 E1001 "
    "E1003 E1004 E1006 E1007 E1008 E1010 E1011 E010101 E010102 E010201 E030301 E030302 E040101 E041701 E050101 "
    "E050102 E050103 E050105 E050107 E050108 E050109 E050110 E050111 E050112 E050201 E050202 W050201 E050301 "
    "E050302 W050301 E060501 E060502 E060701 E060801 E060802 E060803 E061301 E061304 E061305 E061501 E061504 "
    "E061505 E061506 E061507 E061508 E061509 E061801 E061802 E061803 E062101 E062102 E062103 E062105 E062201 "
    "E062202 E062203 E062301 E062302 E062303 E062304 E062305 E062306 E062401 E062402 E062403 E062801 E062802 "
    "E062803 E080201 E080202 E080301 E080302 E080405 E080406 E080407 E080408 E080409 E080410 E080411 E080412 "
    "E080413 E080414 E080415 E080501 E080502 E080503 E080601 E080602 E080604 E080606 E080607 E080702 E080721 "
    "E080722 E080723 E080801 E080821 E080822 E080901 E080902 E080903 E081101 E081102 E081104 E081105 E081106 "
    "E081107 E081108 E081109 E081110 E081111 E081202 E081204 E081205 E081221 E081222 E081223 E081301 E081302 "
    "E081303 E081401 E081402 E081405 E081406 W081401 E110101 E110102 E110103 E110105 E110106 W110101 E110401 "
    "E110402 E110403 E110405 W110401 E120101 E120102 E120103 E120201 E120203 E120204 E120207"
).split()


def _describe(code: str) -> ResponseCode:
    severity = {"I": INFORMATION, "W": WARNING, "E": ERROR}[code[0]]
    if code in _DUIS_TEXT:
        return ResponseCode(code, severity, _DUIS_TEXT[code], True)
    digits = code[1:]
    if len(digits) == 6:            # Service Request specific: major, minor, sequence
        srv = f"{int(digits[:2])}.{int(digits[2:4])}"
        name = _SERVICE_NAMES.get(srv)
        what = f"SR {srv}" + (f" {name}" if name else "")
        return ResponseCode(code, severity, f"{severity} {digits[4:]} specific to {what} (DUIS 3.5)", False, srv)
    return ResponseCode(code, severity, f"generic DCC {severity} {code} (DUIS 3.5)", False)


RESPONSE_CODES: dict[str, ResponseCode] = {code: _describe(code) for code in ALL_CODES}


def response_code(code: str) -> ResponseCode:
    """The table entry of ``code``; DuisError for a code DUIS 5.4 does not define."""
    found = RESPONSE_CODES.get(code)
    if found is None:
        raise DuisError(f"ResponseCode: {code!r} is not a DUIS 5.4 response code")
    return found
