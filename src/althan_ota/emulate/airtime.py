"""Frame sizes of the OTA exchanges and their airtime on each link: the one place bytes become time.

An OTA command travels as ZCL inside APS inside a secured ZigBee NWK frame inside an 802.15.4 MAC frame:

=====================  =====  ===============================================================
part                   bytes  fields
=====================  =====  ===============================================================
MAC header                 9  frame control 2, sequence 1, PAN ID 2, short destination 2, short source 2
NWK header                 8  frame control 2, destination 2, source 2, radius 1, sequence 1
NWK auxiliary header      14  security control 1, frame counter 4, source EUI-64 8, key sequence 1
APS header                 8  frame control 1, endpoints 2, cluster 2, profile 2, APS counter 1
ZCL header                 3  frame control 1, sequence 1, command 1
ZCL payload                n  see below
NWK MIC                    4  CCM* with a 4-byte MIC (security level 5)
MAC FCS                    2  CRC-16/KERMIT
=====================  =====  ===============================================================

ZCL payloads (ZigBee OTA Upgrade cluster): Image Block Request 14 (field control, manufacturer code, image
type, file version, file offset, maximum data size); Image Block Response 14 + data (status, manufacturer
code, image type, file version, file offset, data size, data); Upgrade End Request 9 (status, manufacturer
code, image type, file version); Upgrade End Response 16 (manufacturer code, image type, file version,
current time, upgrade time); Image Notify 10 (payload type 0x03, query jitter, manufacturer code, image type,
file version); Query Next Image Request 9 (field control, manufacturer code, image type, current file version;
no hardware version); Query Next Image Response 13 (status SUCCESS, manufacturer code, image type, file
version, image size); an Image Block Response with status WAIT_FOR_DATA 11 (status, current time, request
time, minimum block period). ZCL 11.13.4 (ZigBee Cluster Library r7, 07-5123) defines the fields;
``althan_ota.frames`` builds every one of them and the tests check these sizes against its output.

On the HAN the PSDU (the MAC frame, at most 127 bytes) is preceded by 6 PHY bytes; a full frame is
133 × 32 µs = 4.256 ms. The bridge link carries the NWK frame (MAC header and FCS dropped) in its own framing.
A future "bytes" fidelity builds these frames for real; the sizes here are what it must reproduce.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .params import BridgeLink, HanLink

MAC_HEADER = 9
MAC_FCS = 2
NWK_HEADER = 8
NWK_AUX_HEADER = 14
NWK_MIC = 4
APS_HEADER = 8
ZCL_HEADER = 3
MAX_PSDU = 127

BLOCK_REQUEST_PAYLOAD = 14
BLOCK_RESPONSE_PAYLOAD = 14          # + data bytes
UPGRADE_END_REQUEST_PAYLOAD = 9
UPGRADE_END_RESPONSE_PAYLOAD = 16
IMAGE_NOTIFY_PAYLOAD = 10
QUERY_NEXT_IMAGE_REQUEST_PAYLOAD = 9
QUERY_NEXT_IMAGE_RESPONSE_PAYLOAD = 13
WAIT_FOR_DATA_RESPONSE_PAYLOAD = 11

NWK_OVERHEAD = NWK_HEADER + NWK_AUX_HEADER + APS_HEADER + ZCL_HEADER + NWK_MIC
MAX_BLOCK = MAX_PSDU - MAC_HEADER - MAC_FCS - NWK_OVERHEAD - BLOCK_RESPONSE_PAYLOAD   # 65 data bytes


def nwk_bytes(zcl_payload: int) -> int:
    """Bytes of the secured NWK frame carrying a ZCL command with this payload."""
    return NWK_OVERHEAD + zcl_payload


def psdu_bytes(zcl_payload: int) -> int:
    """802.15.4 PSDU (MAC frame) bytes for a ZCL command with this payload."""
    return MAC_HEADER + nwk_bytes(zcl_payload) + MAC_FCS


def airtime_ns(nbytes: int, bit_rate_bps: int) -> int:
    """Time on air of nbytes at bit_rate, rounded up to the nanosecond."""
    return -(-nbytes * 8 * 1_000_000_000 // bit_rate_bps)


def dc_span_ns(airtime: int, duty_cycle: float) -> int:
    """How far one transmission pushes the transmitter's release time: ceil(airtime / duty cycle)."""
    return math.ceil(Fraction(airtime) / Fraction(str(duty_cycle)))


@dataclass(frozen=True)
class FrameTimes:
    """Airtimes (ns) of one exchange kind: request and response, on the HAN and on the bridge link."""

    han_request: int
    han_response: int
    bridge_request: int
    bridge_response: int


def han_frame_ns(han: HanLink, zcl_payload: int) -> int:
    return airtime_ns(han.phy_overhead_bytes + psdu_bytes(zcl_payload), han.bit_rate_bps)


def bridge_frame_ns(bridge: BridgeLink, zcl_payload: int) -> int:
    return airtime_ns(bridge.overhead_bytes + nwk_bytes(zcl_payload), bridge.bit_rate_bps)


def exchange_frames(han: HanLink, bridge: BridgeLink, request_payload: int, response_payload: int) -> FrameTimes:
    return FrameTimes(han_frame_ns(han, request_payload), han_frame_ns(han, response_payload),
                      bridge_frame_ns(bridge, request_payload), bridge_frame_ns(bridge, response_payload))


def han_ack_ns(han: HanLink) -> int:
    return airtime_ns(han.phy_overhead_bytes + han.ack_psdu_bytes, han.bit_rate_bps)


def bridge_ack_ns(bridge: BridgeLink) -> int:
    return airtime_ns(bridge.overhead_bytes + bridge.ack_payload_bytes, bridge.bit_rate_bps)


def kinds(han: HanLink, bridge: BridgeLink, image_size: int, block_size: int) -> dict[str, FrameTimes]:
    """Frame airtimes of the exchange kinds, in the order of enum alt_emu_kind (csrc/emu.h): full block, the
    shorter last block, Upgrade End, Image Notify (one frame from the CH: its timings stand in the response;
    the request's are the same, unused), Query Next Image, and a block request answered WAIT_FOR_DATA."""
    last = image_size % block_size or block_size
    return {
        "block": exchange_frames(han, bridge, BLOCK_REQUEST_PAYLOAD, BLOCK_RESPONSE_PAYLOAD + block_size),
        "last_block": exchange_frames(han, bridge, BLOCK_REQUEST_PAYLOAD, BLOCK_RESPONSE_PAYLOAD + last),
        "upgrade_end": exchange_frames(han, bridge, UPGRADE_END_REQUEST_PAYLOAD, UPGRADE_END_RESPONSE_PAYLOAD),
        "image_notify": exchange_frames(han, bridge, IMAGE_NOTIFY_PAYLOAD, IMAGE_NOTIFY_PAYLOAD),
        "query_next_image": exchange_frames(han, bridge, QUERY_NEXT_IMAGE_REQUEST_PAYLOAD,
                                            QUERY_NEXT_IMAGE_RESPONSE_PAYLOAD),
        "wait_for_data": exchange_frames(han, bridge, BLOCK_REQUEST_PAYLOAD, WAIT_FOR_DATA_RESPONSE_PAYLOAD),
    }
