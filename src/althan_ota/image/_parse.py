"""Reading ZigBee OTA files and GB upgrade images from bytes, whatever vendor wrapping they come in.

Only :class:`ImageFormatError` leaves this module for a byte string, and every length is checked before it
is used, so no input can read out of bounds or loop for long: the sub-element walk advances at least six
bytes a step and stops at MAX_ELEMENTS, and the magic search is bounded. Sub-elements are kept as 16-byte
records into the image (``SubElements``), not as one Python object each, so memory stays a small fraction of
the file's size.
"""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from ..errors import ImageFormatError, ParameterError
from ._model import (BASE_HEADER_LENGTH, FC_DESTINATION, FC_HARDWARE_VERSIONS, FC_KNOWN,
                     FC_SECURITY_CREDENTIAL, GBCS_FIELD_CONTROL, GBCS_HEADER_LENGTH, GBCS_SIGNATURE_LENGTH,
                     GBCS_TRAILER_LENGTH, HEADER_VERSION, MAGIC, ELEMENT_RECORD, OtaImage, SubElements,
                     header_length_for)

# How far into a file the magic is looked for when no known container matched. Vendor prefixes seen in
# public files are tens to a few hundred bytes; 64 KiB leaves room without scanning a whole bad file.
MAX_PREFIX = 64 * 1024
# How many magic occurrences in that prefix are tried before giving up (a payload may contain the magic).
MAX_CANDIDATES = 8
# How many sub-elements an image may have. The standard defines seven tags and vendors add a few of their
# own, so real files carry a handful; a file of thousands of (empty) elements is malformed or hostile, and
# walking it element by element would cost time and memory out of proportion to its bytes.
MAX_ELEMENTS = 4096

FORMATS = ("zigbee", "gbcs")
_FIXED = struct.Struct("<4sHHHHHIH32sI")
_ELEMENT = struct.Struct("<HI")
_TELINK_TAG = 0xF000
HUE_MANUFACTURER = 0x100B
HUE_SBL_MAGIC = b"\x2a\x00\x01"


def parse(data, format: str | None = None) -> OtaImage:
    """Parse a ZigBee OTA file or a GB upgrade image.

    ``format`` forces ``"zigbee"`` or ``"gbcs"``; left as None, the bytes decide:

    1. the payload after the header is walked as tag/length sub-elements; if the walk covers it exactly
       (the last element ending at the declared total size), the image is ``"zigbee"``;
    2. otherwise, if the header is shaped as GBCS 11.2.3 requires (field control 0x0004, header length 60)
       the image is ``"gbcs"``: the payload is the Manufacturer Image, followed by a 66-byte trailer
       (ForceReplace 0x00/0x01, length 0x40, 64-byte signature) when its last 66 bytes look like one;
    3. otherwise the sub-element error from step 1 is raised (Telink's 0xF000 elements with their extra
       16-bit field, and Philips Hue ``sbl-ota`` payloads without sub-elements, are recognised first).

    Known vendor containers (IKEA ``NGIS``, Legrand, Third Reality) are unwrapped; other files are searched
    for the magic in their first ``MAX_PREFIX`` bytes. Bytes after the declared total size are allowed and
    counted in ``trailing_bytes``.
    """
    if format is not None and format not in FORMATS:
        raise ParameterError(f"format must be one of {FORMATS} or None, not {format!r}")
    try:
        raw = data if isinstance(data, bytes) else bytes(memoryview(data).cast("B"))
    except TypeError:
        raise ParameterError(f"parse() needs a bytes-like object, not {type(data).__name__}") from None
    view = memoryview(raw)

    container = _unwrap_container(view)
    if container is not None:
        name, start = container
        return _parse_at(view, start, format, name)

    first_error = None
    start = raw.find(MAGIC, 0, MAX_PREFIX + len(MAGIC))
    for _ in range(MAX_CANDIDATES):
        if start < 0:
            break
        try:
            return _parse_at(view, start, format, None)
        except ImageFormatError as exc:
            first_error = first_error or exc
        start = raw.find(MAGIC, start + 1, MAX_PREFIX + len(MAGIC))
    if first_error is not None:
        raise first_error
    shown = bytes(view[:4]).hex(" ").upper() or "nothing"
    raise ImageFormatError(
        f"magic at offset 0: expected 1E F1 EE 0B (0x0BEEF11E), found {shown}, and no magic in the first "
        f"{min(len(raw), MAX_PREFIX + len(MAGIC))} bytes")


def _unwrap_container(view: memoryview) -> tuple[str, int] | None:
    """(container name, offset of the OTA image) for the vendor wrappers zigpy and zigbee-OTA unwrap."""
    n = len(view)
    if n > 24 and view[:4] == b"NGIS":
        # IKEA: little-endian offset and size of the wrapped OTA image at bytes 16 and 20
        offset, size = struct.unpack_from("<II", view, 16)
        if offset + size <= n and view[offset:offset + 4] == MAGIC:
            return "ikea", offset
    if n > 21 + BASE_HEADER_LENGTH and struct.unpack_from("<I", view, 0)[0] + 21 == n and view[4:8] == MAGIC:
        # Legrand: the unwrapped size, the OTA image, then a 17-byte suffix
        return "legrand", 4
    if (n > 152 + BASE_HEADER_LENGTH and view[152:156] == MAGIC
            and struct.unpack_from("<I", view, 68)[0] + 64 == n
            and hashlib.sha512(view[64:]).digest() == view[:64]):
        # Third Reality: a 152-byte header led by the SHA-512 of everything after its first 64 bytes
        return "third-reality", 152
    return None


def _parse_at(view: memoryview, start: int, format: str | None, container: str | None) -> OtaImage:
    left = len(view) - start
    if left < BASE_HEADER_LENGTH:
        raise ImageFormatError(
            f"truncated header at offset {start}: needs {BASE_HEADER_LENGTH} bytes, {left} left")
    (magic, header_version, header_length, field_control, manufacturer_code, image_type, file_version,
     stack_version, header_string_raw, total_size) = _FIXED.unpack_from(view, start)
    if magic != MAGIC:
        raise ImageFormatError(
            f"magic at offset {start}: expected 1E F1 EE 0B, found {magic.hex(' ').upper()}")
    if header_version != HEADER_VERSION:
        raise ImageFormatError(
            f"header version at offset {start + 4}: expected 0x0100, found 0x{header_version:04X}")
    if field_control & ~FC_KNOWN:
        raise ImageFormatError(
            f"field control at offset {start + 8}: 0x{field_control:04X} sets reserved bits "
            f"(only bits 0-2 are defined)")
    expected_length = header_length_for(field_control)
    if header_length != expected_length:
        raise ImageFormatError(
            f"header length at offset {start + 6}: field control 0x{field_control:04X} needs "
            f"{expected_length} bytes, header says {header_length}")
    if total_size < header_length:
        raise ImageFormatError(
            f"total image size at offset {start + 52}: {total_size} is smaller than the header "
            f"({header_length} bytes)")
    if total_size > left:
        raise ImageFormatError(
            f"total image size at offset {start + 52}: header says {total_size} bytes, only {left} left "
            f"in the data from offset {start}")

    image = view[start:start + total_size]
    pos = BASE_HEADER_LENGTH
    security_credential_version = destination = min_hw = max_hw = None
    if field_control & FC_SECURITY_CREDENTIAL:
        security_credential_version = image[pos]
        pos += 1
    if field_control & FC_DESTINATION:
        destination = int.from_bytes(image[pos:pos + 8], "little")
        pos += 8
    if field_control & FC_HARDWARE_VERSIONS:
        min_hw, max_hw = struct.unpack_from("<HH", image, pos)

    fields = dict(
        header_version=header_version, header_length=header_length, field_control=field_control,
        manufacturer_code=manufacturer_code, image_type=image_type, file_version=file_version,
        stack_version=stack_version, header_string=_text(header_string_raw),
        header_string_raw=header_string_raw, total_size=total_size,
        security_credential_version=security_credential_version, destination=destination,
        min_hardware_version=min_hw, max_hardware_version=max_hw, image=image, prefix_length=start,
        trailing_bytes=left - total_size, container=container)

    if format == "gbcs":
        return _gbcs(fields, start)
    try:
        elements = _walk(image, header_length, start, telink=False)
    except ImageFormatError as plain_error:
        if format is None and _is_gbcs_header(field_control, header_length):
            return _gbcs(fields, start)
        try:
            elements = _walk(image, header_length, start, telink=True)
        except ImageFormatError:
            if manufacturer_code == HUE_MANUFACTURER and image[header_length:header_length + 3] == HUE_SBL_MAGIC:
                return OtaImage(format="zigbee", elements=SubElements.empty(),
                                **{**fields, "container": "hue-sbl"})
            raise plain_error from None
        fields["container"] = container or "telink"
    if format is None and not elements and _is_gbcs_header(field_control, header_length):
        return _gbcs(fields, start)
    return OtaImage(format="zigbee", elements=elements, **fields)


def _is_gbcs_header(field_control: int, header_length: int) -> bool:
    return field_control == GBCS_FIELD_CONTROL and header_length == GBCS_HEADER_LENGTH


def _walk(image: memoryview, pos: int, base: int, telink: bool) -> SubElements:
    """The sub-elements from ``pos`` to the end of ``image``; ``base`` turns offsets into file offsets."""
    end = len(image)
    records = np.zeros(min(MAX_ELEMENTS, (end - pos) // _ELEMENT.size + 1), ELEMENT_RECORD)
    count = 0
    first = pos
    while pos < end:
        left = end - pos
        if left < _ELEMENT.size:
            raise ImageFormatError(
                f"truncated sub-element header at offset {base + pos}: needs 6 bytes, {left} left")
        if count == MAX_ELEMENTS:
            raise ImageFormatError(
                f"sub-element at offset {base + pos}: more than {MAX_ELEMENTS} sub-elements from offset "
                f"{base + first} ({left} bytes still to walk); an OTA file carries a handful")
        tag, length = _ELEMENT.unpack_from(image, pos)
        data_at = pos + _ELEMENT.size
        tag_info = -1
        if telink and tag == _TELINK_TAG:
            if end - data_at < 2:
                raise ImageFormatError(
                    f"truncated Telink tag info of sub-element 0xF000 at offset {base + data_at}: needs "
                    f"2 bytes, {end - data_at} left")
            tag_info = struct.unpack_from("<H", image, data_at)[0]
            data_at += 2
        if length > end - data_at:
            raise ImageFormatError(
                f"truncated sub-element 0x{tag:04X} at offset {base + pos}: needs {length} bytes, "
                f"{end - data_at} left before the declared total size")
        records[count] = (data_at, length, tag, tag_info)
        count += 1
        pos = data_at + length
    return SubElements(records[:count].copy(), image)


def _gbcs(fields: dict, base: int) -> OtaImage:
    image: memoryview = fields["image"]
    payload = image[fields["header_length"]:]
    force_replace = signature = None
    manufacturer_image = payload
    if _has_trailer(payload):
        force_replace = payload[-GBCS_TRAILER_LENGTH]
        signature = bytes(payload[-GBCS_SIGNATURE_LENGTH:])
        manufacturer_image = payload[:-GBCS_TRAILER_LENGTH]
    return OtaImage(format="gbcs", elements=SubElements.empty(), manufacturer_image=manufacturer_image,
                    force_replace=force_replace, signature=signature, **fields)


def _has_trailer(payload: memoryview) -> bool:
    return (len(payload) >= GBCS_TRAILER_LENGTH
            and payload[-GBCS_TRAILER_LENGTH] in (0, 1)
            and payload[-GBCS_TRAILER_LENGTH + 1] == GBCS_SIGNATURE_LENGTH)


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
