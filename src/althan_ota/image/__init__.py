"""Firmware images: ZigBee OTA files (ZCL 07-5123, chapter 11) and GB upgrade images (GBCS 11.2) —
parse, build, sign, verify, check against the CPL, and cut into transfer blocks.

See :func:`parse` for how the two formats are told apart and which vendor containers are unwrapped.
"""

from ._build import build_gbcs, build_zigbee
from ._chunk import Chunks, Reassembly, chunk, reassemble
from ._cpl import CplEntry, CplResult, cpl_check, image_cpl_hash, load_cpl
from ._model import OtaImage, SubElement, SubElements, format_version, tag_name
from ._parse import MAX_ELEMENTS, MAX_PREFIX, parse
from ._sign import load_private_key, load_public_key, sign_gbcs

__all__ = ["Chunks", "CplEntry", "CplResult", "MAX_ELEMENTS", "MAX_PREFIX", "OtaImage", "Reassembly",
           "SubElement", "SubElements",
           "build_gbcs", "build_zigbee", "chunk", "cpl_check", "format_version",
           "image_cpl_hash", "load_cpl", "load_private_key", "load_public_key", "parse", "reassemble",
           "sign_gbcs", "tag_name"]
