"""DUIS identifiers: EUI-64 device and user IDs (``00-DB-12-34-56-78-90-A0``), request IDs
(``user:target:counter``), device ID lists and 4-octet firmware versions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import DuisError, ParameterError

MAX_COUNTER = 2**64 - 1         # the schema's limit for an originator counter

_EUI_RE = re.compile(r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}\Z")
_EUI_LOOSE = re.compile(r"[0-9A-Fa-f]{16}\Z")


def eui(value, what: str = "device ID") -> str:
    """An EUI-64 in DUIS form (upper-case octets joined by '-'), from that form, 16 hex digits, or an int."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 2**64:
            raise ParameterError(f"{what}: {value} is not a 64-bit EUI")
        text = f"{value:016X}"
    elif isinstance(value, str):
        text = value.strip().replace(":", "-")
    else:
        raise ParameterError(f"{what}: expected an EUI-64 string or int, not {type(value).__name__}")
    if _EUI_RE.match(text):
        return text.upper()
    if _EUI_LOOSE.match(text):
        return "-".join(text[i:i + 2] for i in range(0, 16, 2)).upper()
    raise ParameterError(f"{what}: {value!r} is not an EUI-64 (e.g. 00-DB-12-34-56-78-90-A0)")


def eui_from_text(text: str | None, element: str) -> str:
    """An EUI-64 read from a message: the DUIS form only (DuisError naming ``element`` otherwise)."""
    text = (text or "").strip()
    if not _EUI_RE.match(text):
        raise DuisError(f"{element}: {text!r} is not an EUI-64 (xx-xx-xx-xx-xx-xx-xx-xx)")
    return text.upper()


@dataclass(frozen=True, slots=True)
class RequestId:
    """``originator:target:counter``. In a request the originator is the user and the target the device (or
    the DSP for non-device requests); a DUIS response echoes it."""

    originator: str
    target: str
    counter: int

    def __str__(self) -> str:
        return f"{self.originator}:{self.target}:{self.counter}"

    def __reduce__(self):
        return RequestId, (self.originator, self.target, self.counter)

    @classmethod
    def make(cls, originator, target, counter: int) -> "RequestId":
        if isinstance(counter, bool) or not isinstance(counter, int) or not 0 <= counter <= MAX_COUNTER:
            raise ParameterError(f"originator counter: {counter!r} is not an integer in 0..2^64-1")
        return cls(eui(originator, "originator ID"), eui(target, "target ID"), counter)

    @classmethod
    def parse(cls, text: str | None, element: str = "RequestID") -> "RequestId":
        parts = (text or "").strip().split(":")
        if len(parts) != 3:
            raise DuisError(f"{element}: {text!r} is not originator:target:counter")
        originator = eui_from_text(parts[0], f"{element} originator")
        target = eui_from_text(parts[1], f"{element} target")
        digits = parts[2]
        if not digits.isascii() or not digits.isdigit() or (len(digits) > 1 and digits[0] == "0") or \
                int(digits) > MAX_COUNTER:
            raise DuisError(f"{element}: counter {digits!r} is not an integer in 0..2^64-1")
        return cls(originator, target, int(digits))


def device_id_list(device_ids) -> str:
    """Comma-joined DUIS DeviceIDList of at least one device, without duplicates."""
    ids = [eui(d) for d in device_ids]
    if not ids:
        raise ParameterError("a device ID list needs at least one device")
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(d for d in ids if d in seen or seen.add(d))
        raise ParameterError(f"device {dup} is listed twice")
    return ",".join(ids)


def split_device_id_list(text: str | None, element: str) -> tuple[str, ...]:
    parts = (text or "").strip().split(",")
    return tuple(eui_from_text(p, element) for p in parts)


def firmware_version(version) -> str:
    """A 4-octet version as DUIS carries it: 8 upper-case hex digits (``0x01020304`` -> ``01020304``)."""
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version <= 0xFFFFFFFF:
        raise ParameterError(f"firmware version: {version!r} is not a 4-octet integer (e.g. 0x01040000)")
    return f"{version:08X}"


def parse_firmware_version(text: str | None, element: str) -> int | None:
    """The 4-octet version a DUIS FirmwareVersion names, or None when it is not 8 hex digits (the schema allows
    any 1-8 characters; SMETS1 and vendor forms exist): the text is kept in the record either way."""
    text = (text or "").strip()
    if len(text) == 8 and all(c in "0123456789abcdefABCDEF" for c in text):
        return int(text, 16)
    if not 1 <= len(text) <= 8:
        raise DuisError(f"{element}: {text!r} is not a firmware version (1 to 8 characters)")
    return None
