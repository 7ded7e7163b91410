"""One device's OTA download as the frames a sniffer would capture, with timestamps.

The server (the Communications Hub) and the client (the device) exchange ZCL OTA Upgrade commands over
ZigBee NWK security: Query Next Image, one Image Block Request / Response per block, Upgrade End. Each
transmission is lost with probability ``per`` (seeded); the client re-requests after a timeout, so lost
requests and lost responses show up as repeated offsets, always with fresh sequence numbers and frame
counters that only increase. The sniffer sees every transmission unless ``sniffer_loss`` says otherwise.

``link="bridge"``: the frames travel the Alt HAN bridge link instead: IEEE 802.15.4 frames with MAC-layer
security (2006 auxiliary header, extended source addresses, ``mac_level``) on the bridge's own PAN, each
carrying the relayed NWK frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import frames as F
from ..errors import ParameterError

BIT_TIME = 1 / 250_000      # 2.4 GHz O-QPSK
PHY_OVERHEAD = 6            # preamble, SFD, PHR bytes before the PSDU


@dataclass
class SessionConfig:
    block_size: int | None = None   # data bytes per Image Block Response; None: as many as fit the link
    manufacturer: int = 0x1234
    image_type: int = 0x0001
    file_version: int = 0x00000002
    current_version: int = 0x00000001
    pan: int = 0x1A62
    server: int = 0x0000            # NWK/MAC short address of the Communications Hub
    client: int = 0x4C2E
    server_ieee: int = 0x00124B0000C0FFEE
    client_ieee: int = 0x00124B0001A1AA55
    bridge_pan: int = 0x7A48
    mac_level: int = 5              # bridge link: 802.15.4 level (4..7)
    start: float = 1_763_000_000.0
    turnaround: float = 0.004       # server processing before a response
    block_period: float = 0.010     # client pause between a response and its next request
    retry_timeout: float = 0.5      # client wait for a response before re-requesting
    wait_for_data: int = 0          # WAIT_FOR_DATA answers before the first block is served
    first_counter: int = 1000       # NWK frame counters start here (server; the client 2000 higher)
    max_attempts: int = 30          # the client gives up an exchange (and the download) after this many


@dataclass
class Captured:
    time: float
    psdu: bytes
    sender: str                     # "server" or "client"
    command: str                    # the OTA command's class name
    delivered: bool                 # False: lost on the link (the receiver never got it)


class _Sender:
    """Per-sender counters: MAC and NWK sequence numbers, APS counter, frame counters (NWK and MAC)."""

    def __init__(self, short: int, ieee: int, counter: int):
        self.short, self.ieee = short, ieee
        self.mac_seq = self.nwk_seq = self.aps_counter = 0
        self.counter = counter
        self.mac_counter = counter

    def next(self):
        self.mac_seq = (self.mac_seq + 1) & 0xFF
        self.nwk_seq = (self.nwk_seq + 1) & 0xFF
        self.aps_counter = (self.aps_counter + 1) & 0xFF
        self.counter += 1
        self.mac_counter += 1


def ota_session(image: bytes, *, nwk_key: bytes, mac_key: bytes | None = None, link: str = "han",
                per: float = 0.0, sniffer_loss: float = 0.0, seed: int = 0,
                config: SessionConfig | None = None) -> list[Captured]:
    """The captured frames of one device downloading ``image`` (the whole OTA file) from the server."""
    cfg = config or SessionConfig()
    if link not in ("han", "bridge"):
        raise ParameterError(f"link is 'han' or 'bridge', got {link!r}")
    if link == "bridge" and mac_key is None:
        raise ParameterError("the bridge link is MAC-secured: give mac_key")
    if not 0 <= per < 1 or not 0 <= sniffer_loss < 1:
        raise ParameterError(f"loss probabilities are in [0, 1), got per={per}, sniffer_loss={sniffer_loss}")
    block_size = cfg.block_size or max_block_size(link, cfg)
    if not 1 <= block_size <= max_block_size(link, cfg):
        raise ParameterError(f"block_size {block_size}: an Image Block Response on the {link} link carries 1 to "
                             f"{max_block_size(link, cfg)} data bytes in a 127-byte frame")
    if len(image) == 0 or len(image) >= 1 << 32:
        raise ParameterError(f"an OTA image is 1 byte to 4 GiB, got {len(image)} bytes")

    rng = np.random.default_rng(seed)
    server = _Sender(cfg.server, cfg.server_ieee, cfg.first_counter)
    client = _Sender(cfg.client, cfg.client_ieee, cfg.first_counter + 2000)
    ident = dict(manufacturer=cfg.manufacturer, image_type=cfg.image_type, file_version=cfg.file_version)
    out: list[Captured] = []
    now = cfg.start
    zcl_seq = 0

    def send(sender: _Sender, receiver: _Sender, ota) -> bool:
        nonlocal now
        sender.next()
        frame = _frame(sender, receiver, ota, zcl_seq, link, cfg)
        psdu = F.build(frame, nwk_key=nwk_key, mac_key=mac_key)
        delivered = bool(rng.random() >= per)
        if rng.random() >= sniffer_loss:
            out.append(Captured(now, psdu, "server" if sender is server else "client", type(ota).__name__,
                                delivered))
        now += (len(psdu) + PHY_OVERHEAD) * 8 * BIT_TIME
        return delivered

    def exchange(request, response_for):
        """Request until a response arrives; returns it, or None when the client gives up."""
        nonlocal now, zcl_seq
        for _ in range(cfg.max_attempts):
            zcl_seq = (zcl_seq + 1) & 0xFF
            if send(client, server, request):
                now += cfg.turnaround
                response = response_for()
                if send(server, client, response):
                    now += cfg.block_period
                    return response
            now += cfg.retry_timeout
        return None

    if exchange(F.QueryNextImageRequest(cfg.manufacturer, cfg.image_type, cfg.current_version),
                lambda: F.QueryNextImageResponse(F.SUCCESS, image_size=len(image), **ident)) is None:
        return out
    waits = cfg.wait_for_data
    offset = 0
    while offset < len(image):
        request = F.ImageBlockRequest(file_offset=offset, max_data_size=block_size, **ident)

        def respond(offset=offset):
            nonlocal waits
            if waits > 0:
                waits -= 1
                t = int(now - cfg.start)
                return F.ImageBlockResponse(F.WAIT_FOR_DATA, current_time=t, request_time=t + 1,
                                            min_block_period=int(cfg.block_period * 1000))
            return F.ImageBlockResponse(F.SUCCESS, file_offset=offset,
                                        data=image[offset:offset + block_size], **ident)

        response = exchange(request, respond)
        if response is None:
            return out
        if response.status == F.SUCCESS:
            offset += len(response.data)
        else:
            now += response.request_time - response.current_time
    t = int(now - cfg.start)
    exchange(F.UpgradeEndRequest(F.SUCCESS, **ident),
             lambda: F.UpgradeEndResponse(current_time=t, upgrade_time=t, **ident))
    return out


def max_block_size(link: str = "han", config: SessionConfig | None = None) -> int:
    """The most data bytes an Image Block Response carries on that link within the 127-byte PSDU."""
    cfg = config or SessionConfig()
    server = _Sender(cfg.server, cfg.server_ieee, 0)
    client = _Sender(cfg.client, cfg.client_ieee, 0)
    ota = F.ImageBlockResponse(F.SUCCESS, data=b"")
    key = bytes(16)
    empty = F.build(_frame(server, client, ota, 0, link, cfg), nwk_key=key, mac_key=key)
    return min(F.MAX_PSDU - len(empty), 255)


def _frame(sender: _Sender, receiver: _Sender, ota, zcl_seq: int, link: str, cfg: SessionConfig) -> F.Frame:
    response = ota.SERVER_TO_CLIENT
    if link == "han":
        mac = F.MacHeader(seq=sender.mac_seq, dst_pan=cfg.pan, dst_addr=receiver.short, src_addr=sender.short,
                          ack_request=True)
    else:
        mac = F.MacHeader(seq=sender.mac_seq, dst_pan=cfg.bridge_pan, dst_mode=F.ADDR_EXT,
                          dst_addr=receiver.ieee, src_mode=F.ADDR_EXT, src_addr=sender.ieee, ack_request=True,
                          security=True, sec_level=cfg.mac_level, frame_counter=sender.mac_counter)
    nwk = F.NwkHeader(dst=receiver.short, src=sender.short, seq=sender.nwk_seq, src_ieee=sender.ieee,
                      frame_counter=sender.counter)
    aps = F.ApsHeader(counter=sender.aps_counter)
    zcl = F.ZclHeader(seq=zcl_seq, command=ota.COMMAND, server_to_client=response,
                      disable_default_response=response)
    return F.Frame(mac, nwk, aps, zcl, ota)
