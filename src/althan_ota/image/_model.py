"""What a parsed firmware image is: the header fields, its sub-elements and, for GB images, the
Manufacturer Image and its signature trailer."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

MAGIC = b"\x1e\xf1\xee\x0b"           # 0x0BEEF11E little-endian (ZCL 07-5123, 11.4.2.1)
HEADER_VERSION = 0x0100
BASE_HEADER_LENGTH = 56               # fixed fields, through the total image size

FC_SECURITY_CREDENTIAL = 0x0001
FC_DESTINATION = 0x0002
FC_HARDWARE_VERSIONS = 0x0004
FC_KNOWN = FC_SECURITY_CREDENTIAL | FC_DESTINATION | FC_HARDWARE_VERSIONS

GBCS_FIELD_CONTROL = FC_HARDWARE_VERSIONS  # GBCS 11.2.3: hardware versions present, nothing else
GBCS_HEADER_LENGTH = 60
GBCS_SIGNATURE_LENGTH = 64            # ECDSA P-256 r||s
GBCS_TRAILER_LENGTH = 2 + GBCS_SIGNATURE_LENGTH   # ForceReplace, length byte 0x40, signature

TAG_UPGRADE_IMAGE = 0x0000
TAG_ECDSA_SIGNATURE_1 = 0x0001
TAG_ECDSA_CERTIFICATE_1 = 0x0002
TAG_INTEGRITY_CODE = 0x0003
TAG_PICTURE_DATA = 0x0004
TAG_ECDSA_SIGNATURE_2 = 0x0005
TAG_ECDSA_CERTIFICATE_2 = 0x0006
TAG_MANUFACTURER_FIRST = 0xF000

TAG_NAMES = {
    TAG_UPGRADE_IMAGE: "upgrade image",
    TAG_ECDSA_SIGNATURE_1: "ECDSA signature (suite 1)",
    TAG_ECDSA_CERTIFICATE_1: "ECDSA signing certificate (suite 1)",
    TAG_INTEGRITY_CODE: "image integrity code",
    TAG_PICTURE_DATA: "picture data",
    TAG_ECDSA_SIGNATURE_2: "ECDSA signature (suite 2)",
    TAG_ECDSA_CERTIFICATE_2: "ECDSA signing certificate (suite 2)",
}


def tag_name(tag: int) -> str:
    if tag in TAG_NAMES:
        return TAG_NAMES[tag]
    return "manufacturer-specific" if tag >= TAG_MANUFACTURER_FIRST else "reserved"


def header_length_for(field_control: int) -> int:
    """The header length that the optional fields announced by ``field_control`` add up to."""
    return (BASE_HEADER_LENGTH
            + (1 if field_control & FC_SECURITY_CREDENTIAL else 0)
            + (8 if field_control & FC_DESTINATION else 0)
            + (4 if field_control & FC_HARDWARE_VERSIONS else 0))


def format_version(version: int) -> str:
    """A 4-octet version identifier as operators write it, e.g. ``0x01020304``."""
    return f"0x{version:08X}"


@dataclass(frozen=True)
class SubElement:
    """One tag/length/value sub-element. ``offset`` is where its data starts, counted from the first byte of
    the OTA image (the magic), which is also the file offset a device asks for in Image Block Requests."""

    tag: int
    offset: int
    length: int
    data: memoryview = field(repr=False)
    tag_info: int | None = None    # Telink's 16-bit field between length and data; None elsewhere

    @property
    def name(self) -> str:
        return tag_name(self.tag)


# One sub-element as parse() records it: where its data starts in the OTA image, its length, and Telink's
# 16-bit tag info (-1 when absent). 16 bytes a sub-element, whatever its size.
ELEMENT_RECORD = np.dtype([("offset", "<u4"), ("length", "<u4"), ("tag", "<u2"), ("tag_info", "<i4")],
                          align=False)


class SubElements(Sequence):
    """An image's sub-elements, kept as records into its bytes (ELEMENT_RECORD) and made into
    :class:`SubElement` objects only when read, so that a file of many tiny elements costs no more memory
    than its bytes. Iterate, index, slice, ``len``, ``index`` and compare with a tuple as before."""

    __slots__ = ("_records", "_image")

    def __init__(self, records: np.ndarray, image: memoryview | None):
        self._records = records
        self._image = image

    @classmethod
    def empty(cls) -> "SubElements":
        return cls(np.zeros(0, ELEMENT_RECORD), None)

    @property
    def records(self) -> np.ndarray:
        """The records themselves (read-only numpy structured array, ELEMENT_RECORD)."""
        view = self._records.view()
        view.flags.writeable = False
        return view

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return SubElements(self._records[index], self._image)
        offset, length, tag, tag_info = self._records[index].tolist()
        return SubElement(tag=tag, offset=offset, length=length, data=self._image[offset:offset + length],
                          tag_info=None if tag_info < 0 else tag_info)

    def first(self, tag: int) -> SubElement | None:
        hits = np.flatnonzero(self._records["tag"] == tag)
        return self[int(hits[0])] if len(hits) else None

    def __eq__(self, other) -> bool:
        if isinstance(other, SubElements):
            other = list(other)
        if isinstance(other, (tuple, list)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"SubElements({list(self)!r})"


@dataclass(frozen=True)
class OtaImage:
    """A parsed ZigBee OTA file (``format == "zigbee"``) or GB upgrade image (``format == "gbcs"``).

    ``image`` is the OTA image itself (``total_size`` bytes from the magic on), a read-only view of the bytes
    given to :func:`parse`; ``prefix_length`` bytes before it and ``trailing_bytes`` after it were skipped
    (a vendor ``container`` such as ``"ikea"``, or plain padding). For GB images ``manufacturer_image`` is
    the payload without the optional trailer (``force_replace``, the length byte 0x40, ``signature``).
    """

    format: str
    header_version: int
    header_length: int
    field_control: int
    manufacturer_code: int
    image_type: int
    file_version: int
    stack_version: int
    header_string: str
    header_string_raw: bytes = field(repr=False)
    total_size: int
    security_credential_version: int | None
    destination: int | None
    min_hardware_version: int | None
    max_hardware_version: int | None
    elements: SubElements     # a lazy sequence of SubElement (empty for GB images)
    image: memoryview = field(repr=False)
    prefix_length: int = 0
    trailing_bytes: int = 0
    container: str | None = None
    manufacturer_image: memoryview | None = field(default=None, repr=False)
    force_replace: int | None = None
    signature: bytes | None = field(default=None, repr=False)

    @property
    def file_version_hex(self) -> str:
        return format_version(self.file_version)

    @property
    def payload(self) -> memoryview:
        """Everything after the header, up to the declared total size."""
        return self.image[self.header_length:]

    @property
    def image_hash(self) -> bytes:
        """SHA-256 of the whole OTA image (header included, container and trailing bytes excluded)."""
        return hashlib.sha256(self.image).digest()

    @property
    def manufacturer_image_hash(self) -> bytes | None:
        """SHA-256 of the Manufacturer Image (GBCS 11.2.4) for GB images; None for ZigBee files."""
        if self.manufacturer_image is None:
            return None
        return hashlib.sha256(self.manufacturer_image).digest()

    def element(self, tag: int) -> SubElement | None:
        """The first sub-element with this tag, or None."""
        if isinstance(self.elements, SubElements):
            return self.elements.first(tag)
        return next((e for e in self.elements if e.tag == tag), None)

    def integrity_code_ok(self) -> bool | None:
        """Whether the image integrity code (tag 0x0003) matches; None when the image carries none."""
        from ._integrity import integrity_code_ok

        return integrity_code_ok(self)

    def verify_signature(self, public_key) -> bool:
        """Check the GB image's ECDSA P-256 signature over its Manufacturer Image; raise SignatureError if
        it is missing or does not verify. ``public_key``: a ``cryptography`` key, PEM/DER bytes, or the raw
        64-byte X||Y (65 with the 0x04 prefix) that GBCS certificates carry."""
        from ._sign import verify_signature

        return verify_signature(self, public_key)
