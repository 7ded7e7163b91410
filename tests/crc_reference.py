"""A bit-at-a-time CRC straight from the Williams model parameters, independent of the C tables and folding.

Parameters are those of the CRC RevEng catalogue (https://reveng.sourceforge.io/crc-catalogue/all.htm),
written out here rather than read from the package under test.
"""

from __future__ import annotations

# name: (width, poly, init, reflected (refin == refout), xorout, check)
CATALOGUE = {
    "CRC-16/KERMIT": (16, 0x1021, 0x0000, True, 0x0000, 0x2189),
    "CRC-16/EN-13757": (16, 0x3D65, 0x0000, False, 0xFFFF, 0xC2B7),
    "CRC-16/IBM-SDLC": (16, 0x1021, 0xFFFF, True, 0xFFFF, 0x906E),
    "CRC-16/XMODEM": (16, 0x1021, 0x0000, False, 0x0000, 0x31C3),
    "CRC-32/ISO-HDLC": (32, 0x04C11DB7, 0xFFFFFFFF, True, 0xFFFFFFFF, 0xCBF43926),
    "CRC-32/ISCSI": (32, 0x1EDC6F41, 0xFFFFFFFF, True, 0xFFFFFFFF, 0xE3069283),
}


def _reflect(value: int, width: int) -> int:
    return int(f"{value:0{width}b}"[::-1], 2)


def reference_crc(data: bytes, name: str) -> int:
    width, poly, init, reflected, xorout, _check = CATALOGUE[name]
    top, mask = 1 << (width - 1), (1 << width) - 1
    reg = init
    for byte in bytes(data):
        for i in range(8):
            bit = (byte >> i) & 1 if reflected else (byte >> (7 - i)) & 1
            out = 1 if reg & top else 0
            reg = (reg << 1) & mask
            if out ^ bit:
                reg ^= poly
    if reflected:
        reg = _reflect(reg, width)
    return reg ^ xorout
