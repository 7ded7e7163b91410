"""The ZigBee OTA image integrity code (ZCL 07-5123, 11.4.9): an AES-MMO hash (ZigBee 05-3474, B.6) of the
OTA image from its first header byte up to, not including, the integrity code sub-element, which must be
the last one."""

from __future__ import annotations

import hmac

from ..checksum import aes_mmo
from ..errors import ImageFormatError
from ._model import TAG_INTEGRITY_CODE, OtaImage

INTEGRITY_CODE_LENGTH = 16
_ELEMENT_HEADER = 6


def integrity_code_ok(image: OtaImage) -> bool | None:
    element = image.element(TAG_INTEGRITY_CODE)
    if element is None:
        return None
    last = image.elements[-1]
    if element.offset != last.offset:
        following = sum(1 for e in image.elements if e.offset > element.offset)
        raise ImageFormatError(
            f"image integrity code at offset {element.offset - _ELEMENT_HEADER}: expected the last "
            f"sub-element, {following} follow it")
    if element.length != INTEGRITY_CODE_LENGTH:
        raise ImageFormatError(
            f"image integrity code at offset {element.offset - _ELEMENT_HEADER}: expected "
            f"{INTEGRITY_CODE_LENGTH} bytes, found {element.length}")
    covered = image.image[:element.offset - _ELEMENT_HEADER]
    return hmac.compare_digest(aes_mmo(covered), bytes(element.data))
