"""Writing ZigBee OTA files and GB upgrade images that :func:`parse` reads back byte for byte."""

from __future__ import annotations

import struct
from collections.abc import Iterable

from ..checksum import aes_mmo
from ..errors import ParameterError
from ._integrity import INTEGRITY_CODE_LENGTH
from ._model import (FC_DESTINATION, FC_HARDWARE_VERSIONS, FC_SECURITY_CREDENTIAL, GBCS_SIGNATURE_LENGTH,
                     HEADER_VERSION, MAGIC, TAG_INTEGRITY_CODE, TAG_UPGRADE_IMAGE, header_length_for)

_MAX_U32 = 0xFFFFFFFF
DEFAULT_STACK_VERSION = 0x0002   # ZigBee PRO, as in GBCS sample images


def build_zigbee(payload=None, *, manufacturer_code: int, image_type: int, file_version: int,
                 stack_version: int = DEFAULT_STACK_VERSION, header_string: str | bytes = "",
                 security_credential_version: int | None = None, destination: int | None = None,
                 hardware_versions: tuple[int, int] | None = None,
                 elements: Iterable[tuple[int, bytes]] = (), integrity_code: bool = False) -> bytes:
    """A ZigBee OTA file: header, the ``payload`` as an upgrade image sub-element (tag 0x0000) when given,
    then ``elements`` as (tag, data) in order, then, if asked, the image integrity code (tag 0x0003) over
    everything before it. The total image size is computed."""
    body = []
    if payload is not None:
        body.append((TAG_UPGRADE_IMAGE, payload))
    body.extend(elements)
    parts = []
    for tag, data in body:
        _check_int("sub-element tag", tag, 0xFFFF)
        if tag == TAG_INTEGRITY_CODE:
            raise ParameterError("add the image integrity code with integrity_code=True, not as an element")
        data = memoryview(data).cast("B")
        _check_int("sub-element length", len(data), _MAX_U32)
        parts.append(struct.pack("<HI", tag, len(data)))
        parts.append(data)
    element_bytes = sum(len(p) for p in parts)
    if integrity_code:
        element_bytes += 6 + INTEGRITY_CODE_LENGTH
    header = _header(manufacturer_code, image_type, file_version, stack_version, header_string,
                     security_credential_version, destination, hardware_versions, element_bytes)
    image = bytearray(header)
    for part in parts:
        image += part
    if integrity_code:
        image += struct.pack("<HI", TAG_INTEGRITY_CODE, INTEGRITY_CODE_LENGTH)
        image += aes_mmo(image[:len(image) - 6])
    return bytes(image)


def build_gbcs(manufacturer_image, *, manufacturer_code: int, image_type: int, file_version: int,
               min_hardware_version: int, max_hardware_version: int,
               stack_version: int = DEFAULT_STACK_VERSION, header_string: str | bytes = "",
               force_replace: int = 0, signature: bytes | None = None, private_key=None,
               signed: bool = True) -> bytes:
    """A GB upgrade image laid out as GBCS 11.2.3 and the DCC's samples: a 60-byte header (field control
    0x0004) directly followed by the Manufacturer Image, then ForceReplace, 0x40 and the 64-byte ECDSA
    signature over the Manufacturer Image (made with ``private_key``, or ``signature`` as given).
    ``signed=False`` leaves the trailer out, as some PPMID images do."""
    manufacturer_image = memoryview(manufacturer_image).cast("B")
    if signed:
        if force_replace not in (0, 1):
            raise ParameterError(f"force_replace must be 0 or 1, not {force_replace!r}")
        if private_key is not None:
            if signature is not None:
                raise ParameterError("give either signature or private_key, not both")
            from ._sign import sign_raw

            signature = sign_raw(manufacturer_image, private_key)
        if signature is None or len(signature) != GBCS_SIGNATURE_LENGTH:
            raise ParameterError("a signed GB image needs private_key or a 64-byte r||s signature "
                                 "(signed=False builds one without the trailer)")
        trailer = bytes([force_replace, GBCS_SIGNATURE_LENGTH]) + bytes(signature)
    else:
        if signature is not None or private_key is not None:
            raise ParameterError("signed=False takes no signature or private_key")
        trailer = b""
    header = _header(manufacturer_code, image_type, file_version, stack_version, header_string, None, None,
                     (min_hardware_version, max_hardware_version), len(manufacturer_image) + len(trailer))
    return header + bytes(manufacturer_image) + trailer


def _header(manufacturer_code, image_type, file_version, stack_version, header_string,
            security_credential_version, destination, hardware_versions, body_length: int) -> bytes:
    _check_int("manufacturer code", manufacturer_code, 0xFFFF)
    _check_int("image type", image_type, 0xFFFF)
    _check_int("file version", file_version, _MAX_U32)
    _check_int("stack version", stack_version, 0xFFFF)
    raw_string = header_string.encode("utf-8") if isinstance(header_string, str) else bytes(header_string)
    if len(raw_string) > 32:
        raise ParameterError(f"header string is {len(raw_string)} bytes; at most 32 fit")
    field_control = 0
    optional = b""
    if security_credential_version is not None:
        _check_int("security credential version", security_credential_version, 0xFF)
        field_control |= FC_SECURITY_CREDENTIAL
        optional += bytes([security_credential_version])
    if destination is not None:
        _check_int("upgrade file destination", destination, 0xFFFFFFFFFFFFFFFF)
        field_control |= FC_DESTINATION
        optional += destination.to_bytes(8, "little")
    if hardware_versions is not None:
        low, high = hardware_versions
        _check_int("minimum hardware version", low, 0xFFFF)
        _check_int("maximum hardware version", high, 0xFFFF)
        field_control |= FC_HARDWARE_VERSIONS
        optional += struct.pack("<HH", low, high)
    header_length = header_length_for(field_control)
    total = header_length + body_length
    _check_int("total image size", total, _MAX_U32)
    return struct.pack("<4sHHHHHIH32sI", MAGIC, HEADER_VERSION, header_length, field_control,
                       manufacturer_code, image_type, file_version, stack_version,
                       raw_string.ljust(32, b"\x00"), total) + optional


def _check_int(name: str, value, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ParameterError(f"{name} must be an integer from 0 to 0x{maximum:X}, not {value!r}")
