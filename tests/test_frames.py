"""Frames against independent references: the IEEE 802.15.4-2006 Annex C secured frames, the ZigBee
CCM* vector (05-3474 Annex C.3), NWK protection recomputed with OpenSSL (cryptography's AESCCM), zigpy's
ZCL OTA command schemas both ways, and scapy's dot15d4 / ZigBee dissectors as a second parser."""

from __future__ import annotations

import random

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from hypothesis import given, settings
from hypothesis import strategies as st

from althan_ota import ccm
from althan_ota import frames as F
from althan_ota.errors import FrameError, InvalidTag

ANNEX_KEY = bytes(range(0xC0, 0xD0))
NWK_KEY = bytes.fromhex("5a6967426565416c6c69616e63653039")
SRC_IEEE = 0x00124B0001020304


def kermit(data: bytes) -> int:
    """CRC-16/KERMIT bit by bit (reflected 0x1021 = 0x8408, init 0): the 802.15.4 FCS, independently."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc


def with_fcs(body: bytes) -> bytes:
    return body + kermit(body).to_bytes(2, "little")


# IEEE 802.15.4-2006 Annex C.2 (key C0..CF, source ACDE480000000001, frame counter 5)
ANNEX_C = [
    ("data, level 4", "69DC842143020000000048DEAC010000000048DEAC0405000000" "D43E022B", "61626364"),
    ("command, level 6", "2BDC842143020000000048DEACFFFF010000000048DEAC0605000000" "01" "D84FDE529061F9C6F1", "CE"),
    ("beacon, level 2", "08D0842143010000000048DEAC0205000000" "55CF000051525354" "223BC1EC841AB553",
     "55CF000051525354"),
]


@pytest.mark.parametrize("name, hexframe, payload", ANNEX_C)
def test_ieee802154_annex_c(name, hexframe, payload, aes_tier):
    psdu = with_fcs(bytes.fromhex(hexframe))
    p = F.parse(psdu, F.Keys(mac_key=ANNEX_KEY))
    assert p.ok and p.fcs_ok and p.mac_security == "ok"
    assert p.frame.mac.src_addr == 0xACDE480000000001 and p.frame.mac.frame_counter == 5
    assert p.frame.payload == bytes.fromhex(payload)
    assert F.build(p.frame, mac_key=ANNEX_KEY) == psdu
    # the nonce is the one althan_ota.ccm documents for 802.15.4
    level = p.frame.mac.sec_level
    assert ccm.ieee802154_nonce(0xACDE480000000001, 5, level) == bytes.fromhex("ACDE480000000001 00000005") + bytes([level])


def test_zigbee_ccm_star_vector():
    # ZigBee spec 05-3474 Annex C.3: nonce = source A0..A7 little-endian, counter 0x00010203, control 0x06
    nonce = ccm.zigbee_nonce(0xA7A6A5A4A3A2A1A0, 0x00010203, 0x06)
    assert nonce == bytes.fromhex("A0A1A2A3A4A5A6A7 03020100 06")
    out = ccm.encrypt(ANNEX_KEY, nonce, bytes(range(8, 0x1F)), aad=bytes(range(8)), mic_len=8)
    assert out.hex() == "1a55a36abb6c610d066b3375649cef10d4664ecad854a80a895cc1d8ff9469"


def block_response(data=bytes(range(48)), offset=4096, counter=77, security=True) -> F.Frame:
    return F.Frame(
        F.MacHeader(seq=3, dst_pan=0x1A62, dst_addr=0x4C2E, src_addr=0x0000, ack_request=True),
        F.NwkHeader(dst=0x4C2E, src=0x0000, seq=9, src_ieee=SRC_IEEE, frame_counter=counter, security=security),
        F.ApsHeader(counter=5),
        None,
        F.ImageBlockResponse(manufacturer=0x1234, image_type=1, file_version=0x01020304, file_offset=offset,
                             data=data))


def test_nwk_security_matches_openssl(aes_tier):
    """NWK CCM* recomputed with cryptography: AAD = NWK header + auxiliary header with the level (5) put
    back, nonce = source EUI-64 and counter little-endian + security control; on the air the level is 0."""
    psdu = F.build(block_response(), nwk_key=NWK_KEY)
    clear = F.build(block_response(security=False))
    mac_len = 9
    nwk = psdu[mac_len:-2]
    aux_at = 8 + 8                                   # NWK header with the source IEEE address
    assert nwk[aux_at] == 0x28                       # key id network, extended nonce, level bits 0
    aux = nwk[aux_at:aux_at + 14]
    assert int.from_bytes(aux[1:5], "little") == 77 and int.from_bytes(aux[5:13], "little") == SRC_IEEE
    header = bytearray(nwk[:aux_at + 14])
    header[1] &= ~0x02                               # the clear frame had no security bit: compare from here
    header[aux_at] |= 5
    nonce = SRC_IEEE.to_bytes(8, "little") + (77).to_bytes(4, "little") + bytes([0x2D])
    nwk_payload_clear = clear[mac_len + aux_at:-2]   # APS + ZCL + data
    aad = bytearray(header)
    aad[1] |= 0x02
    want = AESCCM(NWK_KEY, tag_length=4).encrypt(nonce, nwk_payload_clear, bytes(aad))
    assert nwk[aux_at + 14:] == want


def test_round_trip_every_ota_command():
    ident = dict(manufacturer=0x1234, image_type=0x0001, file_version=0x01020304)
    commands = [
        F.ImageNotify(3, 50, **ident),
        F.QueryNextImageRequest(hardware_version=7, **ident),
        F.QueryNextImageRequest(**ident),
        F.QueryNextImageResponse(F.SUCCESS, image_size=240_000, **ident),
        F.QueryNextImageResponse(F.NO_IMAGE_AVAILABLE),
        F.ImageBlockRequest(file_offset=96, max_data_size=48, **ident),
        F.ImageBlockRequest(file_offset=96, max_data_size=48, request_node=SRC_IEEE, min_block_period=250, **ident),
        F.ImageBlockResponse(F.SUCCESS, file_offset=96, data=b"\x01" * 40, **ident),
        F.ImageBlockResponse(F.WAIT_FOR_DATA, current_time=100, request_time=160, min_block_period=1000),
        F.ImageBlockResponse(F.ABORT),
        F.UpgradeEndRequest(F.SUCCESS, **ident),
        F.UpgradeEndRequest(F.INVALID_IMAGE, **ident),
        F.UpgradeEndResponse(current_time=5, upgrade_time=10, **ident),
    ]
    for cmd in commands:
        frame = F.Frame(F.MacHeader(dst_addr=1), F.NwkHeader(dst=1, src_ieee=SRC_IEEE), F.ApsHeader(), None, cmd)
        p = F.parse(F.build(frame, nwk_key=NWK_KEY), F.Keys(nwk_key=NWK_KEY))
        assert p.frame.ota == cmd
        assert p.frame.zcl.command == cmd.COMMAND and p.frame.zcl.server_to_client == cmd.SERVER_TO_CLIENT


# --- zigpy as the ZCL reference -----------------------------------------------------------------------

def zcl_bytes(frame: F.Frame) -> bytes:
    """The ZCL frame (header + command) of an unsecured frame: what follows the APS header."""
    plain = F.Frame(frame.mac, frame.nwk, frame.aps)
    return F.build(frame)[len(F.build(plain)) - 2:-2]


def unsecured(cmd) -> F.Frame:
    return F.Frame(F.MacHeader(dst_addr=1), F.NwkHeader(dst=1, security=False), F.ApsHeader(), None, cmd)


def zigpy_parse(zcl: bytes):
    from zigpy.zcl import foundation
    from zigpy.zcl.clusters.general import Ota
    hdr, rest = foundation.ZCLHeader.deserialize(zcl)
    table = Ota.client_commands if hdr.direction == foundation.Direction.Server_to_Client else Ota.server_commands
    obj, extra = table[hdr.command_id].schema.deserialize(rest)
    assert extra == b""
    return hdr, obj


@settings(max_examples=60, deadline=None)
@given(offset=st.integers(0, 2**32 - 1), data=st.binary(min_size=0, max_size=57), seq=st.integers(0, 255),
       version=st.integers(0, 2**32 - 1))
def test_zigpy_parses_our_image_block_response(offset, data, seq, version):
    cmd = F.ImageBlockResponse(F.SUCCESS, manufacturer=0x1234, image_type=7, file_version=version,
                               file_offset=offset, data=data)
    frame = unsecured(cmd)
    frame.zcl = F.ZclHeader(seq=seq, command=5, server_to_client=True, disable_default_response=True)
    hdr, obj = zigpy_parse(zcl_bytes(frame))
    assert hdr.tsn == seq and hdr.command_id == 5 and hdr.frame_control.disable_default_response
    assert (obj.status, obj.manufacturer_code, obj.image_type, obj.file_version, obj.file_offset,
            obj.image_data) == (0, 0x1234, 7, version, offset, data)


def test_zigpy_parses_our_other_commands():
    ident = dict(manufacturer=0x1234, image_type=0x0001, file_version=0x01020304)
    hdr, obj = zigpy_parse(zcl_bytes(unsecured(F.ImageBlockRequest(file_offset=480, max_data_size=48,
                                                                   min_block_period=20, **ident))))
    assert (obj.file_offset, obj.maximum_data_size, obj.minimum_block_period) == (480, 48, 20)
    hdr, obj = zigpy_parse(zcl_bytes(unsecured(F.ImageBlockResponse(F.WAIT_FOR_DATA, current_time=9,
                                                                     request_time=12, min_block_period=500))))
    assert (obj.status, obj.current_time, obj.request_time, obj.minimum_block_period) == (0x97, 9, 12, 500)
    hdr, obj = zigpy_parse(zcl_bytes(unsecured(F.QueryNextImageResponse(F.SUCCESS, image_size=999, **ident))))
    assert (obj.status, obj.image_size, obj.file_version) == (0, 999, 0x01020304)
    hdr, obj = zigpy_parse(zcl_bytes(unsecured(F.UpgradeEndResponse(current_time=1, upgrade_time=2, **ident))))
    assert (obj.current_time, obj.upgrade_time) == (1, 2)
    hdr, obj = zigpy_parse(zcl_bytes(unsecured(F.QueryNextImageRequest(hardware_version=3, **ident))))
    assert (obj.current_file_version, obj.hardware_version) == (0x01020304, 3)


def test_we_parse_what_zigpy_builds():
    from zigpy.zcl import foundation
    from zigpy.zcl.clusters.general import Ota
    cases = [
        (5, foundation.Direction.Server_to_Client,
         dict(status=0, manufacturer_code=0x1234, image_type=2, file_version=3, file_offset=4096,
              image_data=b"firmware"),
         F.ImageBlockResponse(F.SUCCESS, 0x1234, 2, 3, 4096, b"firmware")),
        (5, foundation.Direction.Server_to_Client,
         dict(status=0x97, current_time=10, request_time=70, minimum_block_period=250),
         F.ImageBlockResponse(F.WAIT_FOR_DATA, current_time=10, request_time=70, min_block_period=250)),
        (3, foundation.Direction.Client_to_Server,
         dict(field_control=0, manufacturer_code=0x1234, image_type=2, file_version=3, file_offset=64,
              maximum_data_size=40),
         F.ImageBlockRequest(0x1234, 2, 3, 64, 40)),
        (6, foundation.Direction.Client_to_Server,
         dict(status=0, manufacturer_code=0x1234, image_type=2, file_version=3),
         F.UpgradeEndRequest(F.SUCCESS, 0x1234, 2, 3)),
    ]
    for command, direction, fields, want in cases:
        table = Ota.client_commands if direction == foundation.Direction.Server_to_Client else Ota.server_commands
        body = table[command].schema(**fields).serialize()
        zcl = foundation.ZCLHeader.cluster(tsn=9, command_id=command, direction=direction).serialize() + body
        frame = F.Frame(F.MacHeader(dst_addr=1), F.NwkHeader(dst=1, src_ieee=SRC_IEEE), F.ApsHeader(),
                        payload=zcl)
        p = F.parse(F.build(frame, nwk_key=NWK_KEY), F.Keys(nwk_key=NWK_KEY))
        assert p.frame.ota == want and p.frame.zcl.seq == 9


# --- scapy as a second parser -------------------------------------------------------------------------

def test_scapy_dissects_our_frame():
    scapy_zb = pytest.importorskip("scapy.layers.zigbee")
    from scapy.config import conf
    from scapy.layers.dot15d4 import Dot15d4FCS
    conf.dot15d4_protocol = "zigbee"
    psdu = F.build(block_response(security=False))
    pkt = Dot15d4FCS(psdu)
    assert pkt.compute_fcs(psdu[:-2]) == psdu[-2:]           # scapy's own FCS equals ours
    assert pkt.seqnum == 3 and pkt.dest_panid == 0x1A62 and pkt.dest_addr == 0x4C2E
    nwk = pkt[scapy_zb.ZigbeeNWK]
    assert nwk.destination == 0x4C2E and nwk.seqnum == 9 and nwk.ext_src == SRC_IEEE
    aps = pkt[scapy_zb.ZigbeeAppDataPayload]
    assert aps.cluster == 0x0019 and aps.profile == 0x0109 and aps.counter == 5
    zcl = pkt[scapy_zb.ZigbeeClusterLibrary]
    assert zcl.zcl_frametype == 1 and zcl.command_direction == 1 and zcl.command_identifier == 5
    assert bytes(zcl.payload)[-48:] == bytes(range(48))
    secured = Dot15d4FCS(F.build(block_response(), nwk_key=NWK_KEY))
    sec = secured[scapy_zb.ZigbeeSecurityHeader]
    assert sec.fc == 77 and sec.source == SRC_IEEE and sec.key_type == 1
    assert not sec.nwk_seclevel                                # the level goes on the air as 0


# --- receivers ----------------------------------------------------------------------------------------

def test_fcs_mic_and_replay_checks():
    psdu = F.build(block_response(counter=10), nwk_key=NWK_KEY)
    rx = F.Receiver(F.Keys(nwk_key=NWK_KEY))
    assert rx.receive(psdu).ok
    assert rx.receive(psdu).replayed                 # same counter again
    assert rx.receive(F.build(block_response(counter=9), nwk_key=NWK_KEY)).replayed
    assert rx.receive(F.build(block_response(counter=11), nwk_key=NWK_KEY)).ok
    flipped = bytearray(psdu)
    flipped[40] ^= 4
    with pytest.raises(FrameError, match="FCS"):
        F.parse(bytes(flipped), F.Keys(nwk_key=NWK_KEY))
    forged = with_fcs(bytes(flipped[:-2]))
    with pytest.raises(InvalidTag, match="NWK MIC"):
        F.parse(forged, F.Keys(nwk_key=NWK_KEY))
    marked = F.parse(forged, F.Keys(nwk_key=NWK_KEY), strict=False)
    assert marked.nwk_security == "bad-mic" and not marked.ok
    wrong = F.parse(psdu, F.Keys(nwk_key=bytes(16)), strict=False)
    assert wrong.nwk_security == "bad-mic"
    nokey = F.parse(psdu)
    assert nokey.nwk_security == "no-key" and nokey.frame.ota is None and nokey.ok


def test_bridge_link_mac_security_levels(aes_tier):
    mac_key = bytes(range(16, 32))
    for level in range(1, 8):
        frame = F.Frame(F.MacHeader(dst_mode=F.ADDR_EXT, dst_addr=0x1122, src_mode=F.ADDR_EXT,
                                    src_addr=0x00124B00000000AA, security=True, sec_level=level, frame_counter=3),
                        F.NwkHeader(dst=1, src_ieee=SRC_IEEE), F.ApsHeader(), None,
                        F.ImageBlockResponse(data=b"x" * 20))
        psdu = F.build(frame, nwk_key=NWK_KEY, mac_key=mac_key)
        p = F.parse(psdu, F.Keys(nwk_key=NWK_KEY, mac_key=mac_key))
        assert p.ok and p.frame.ota.data == b"x" * 20 and p.frame.mac.sec_level == level
        mic = {0: 0, 1: 4, 2: 8, 3: 16}[level & 3]
        if level >= 4:  # encrypted: the NWK frame is not in the clear
            assert psdu.find(SRC_IEEE.to_bytes(8, "little")) == -1
        plain = F.Frame(F.MacHeader(**{**frame.mac.__dict__, "security": False}), frame.nwk, frame.aps, None,
                        frame.ota)
        assert len(psdu) == len(F.build(plain, nwk_key=NWK_KEY)) + 6 + mic   # auxiliary header + MIC
        if mic:
            bad = F.parse(psdu, F.Keys(nwk_key=NWK_KEY, mac_key=bytes(16)), strict=False)
            assert bad.mac_security == "bad-mic"


def test_malformed_frames_never_crash():
    psdu = F.build(block_response(), nwk_key=NWK_KEY)
    keys = F.Keys(nwk_key=NWK_KEY)
    for n in range(len(psdu) - 2):                   # every cut short of the whole frame
        cut = with_fcs(psdu[:n]) if n >= 3 else psdu[:n]
        p = F.parse(cut, keys, strict=False)
        assert not (p.ok and p.frame.ota is not None and p.frame.ota.data == bytes(range(48)))
        if p.error is None and p.fcs_ok is not False and p.nwk_security != "bad-mic":
            continue
        with pytest.raises((FrameError, InvalidTag)):
            F.parse(cut, keys)
    with pytest.raises(FrameError, match="127"):
        F.parse(bytes(200), keys)
    with pytest.raises(FrameError, match="127"):
        F.build(block_response(data=bytes(100)), nwk_key=NWK_KEY)
    with pytest.raises(FrameError, match="16 bytes"):
        F.build(block_response(), nwk_key=b"short")
    with pytest.raises(FrameError, match="out of range|description"):
        F.build(F.Frame(F.MacHeader(dst_mode=1)))
    with pytest.raises(FrameError):
        F.build(F.Frame(F.MacHeader(seq=300)))


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=127))
def test_random_bytes_parse_or_fail_cleanly(raw):
    keys = F.Keys(nwk_key=NWK_KEY, mac_key=ANNEX_KEY, aps_key=NWK_KEY, mac_nonce_src=1)
    for data in (raw, with_fcs(raw[:125])):
        p = F.parse(data, keys, strict=False)
        assert isinstance(p, F.Parsed)


def test_batch_equals_single_frames(aes_tier):
    rnd = random.Random(5)
    n = 200
    data = bytes(rnd.randrange(256) for _ in range(n * 30))
    import numpy as np
    rows = np.frombuffer(data, np.uint8).reshape(n, 30)
    offsets = np.arange(n, dtype=np.uint32) * 30
    counters = np.arange(n, dtype=np.uint32) + 1000
    seqs = (np.arange(n) % 256).astype(np.uint8)
    keys = np.frombuffer(bytes(rnd.randrange(256) for _ in range(3 * 16)), np.uint8).reshape(3, 16)
    key_index = np.arange(n) % 3
    template = block_response(data=b"", offset=0)
    for bridge in (False, True):
        if bridge:
            template.mac = F.MacHeader(dst_pan=0x7A48, dst_mode=F.ADDR_EXT, dst_addr=2, src_mode=F.ADDR_EXT,
                                       src_addr=0x00124B0000000001, security=True, sec_level=5)
        out, lens = F.build_image_block_responses(template, rows, offsets, counters, seqs, nwk_keys=keys,
                                                  mac_keys=keys if bridge else None, key_index=key_index)
        for i in range(0, n, 17):
            f = block_response(data=bytes(rows[i]), offset=int(offsets[i]), counter=int(counters[i]))
            f.mac = F.MacHeader(**{**template.mac.__dict__, "seq": int(seqs[i]), "frame_counter": int(counters[i])})
            f.nwk.seq = int(seqs[i])
            f.aps.counter = int(seqs[i])
            f.zcl = F.ZclHeader(seq=int(seqs[i]), command=5, server_to_client=True, disable_default_response=True)
            k = bytes(keys[key_index[i]])
            assert bytes(out[i, :lens[i]]) == F.build(f, nwk_key=k, mac_key=k if bridge else None)


def test_aps_security_inside_nwk_security():
    link_key = bytes(range(100, 116))
    frame = block_response(data=bytes(range(24)))
    frame.aps = F.ApsHeader(counter=5, security=True, frame_counter=321, sec_src=SRC_IEEE)
    psdu = F.build(frame, nwk_key=NWK_KEY, aps_key=link_key)
    p = F.parse(psdu, F.Keys(nwk_key=NWK_KEY, aps_key=link_key))
    assert p.ok and p.aps_security == "ok" and p.frame.ota.data == bytes(range(24))
    assert p.frame.aps.frame_counter == 321 and p.frame.aps.sec_level == 5
    # the APS payload is protected on its own: the NWK key alone leaves it encrypted
    only_nwk = F.parse(psdu, F.Keys(nwk_key=NWK_KEY))
    assert only_nwk.aps_security == "no-key" and only_nwk.frame.ota is None
    wrong = F.parse(psdu, F.Keys(nwk_key=NWK_KEY, aps_key=bytes(16)), strict=False)
    assert wrong.aps_security == "bad-mic" and not wrong.ok
    # the APS CCM*, recomputed with OpenSSL from the NWK plaintext: AAD = APS header + auxiliary header
    # with the level put back, nonce = source, counter, security control (data key 0x20 | level 5)
    nwk = psdu[9:-2]                                   # after the MAC header, before the FCS
    aad = bytearray(nwk[:30])
    aad[16] |= 5
    nwk_nonce = SRC_IEEE.to_bytes(8, "little") + (77).to_bytes(4, "little") + bytes([0x2D])
    aps_bytes = AESCCM(NWK_KEY, tag_length=4).decrypt(nwk_nonce, nwk[30:], bytes(aad))
    header, aux = aps_bytes[:8], bytearray(aps_bytes[8:21])
    assert aux[0] == 0x20                              # extended nonce, data key, level bits 0 on the air
    aux[0] |= 5
    nonce = SRC_IEEE.to_bytes(8, "little") + (321).to_bytes(4, "little") + bytes([0x25])
    plain = F.build(F.Frame(frame.mac, F.NwkHeader(**{**frame.nwk.__dict__, "security": False}),
                            F.ApsHeader(counter=5), None, frame.ota))
    zcl = plain[len(F.build(F.Frame(frame.mac, F.NwkHeader(**{**frame.nwk.__dict__, "security": False}),
                                    F.ApsHeader(counter=5)))) - 2:-2]
    assert header[0] == 0x20                           # data frame, unicast, security
    assert aps_bytes[21:] == AESCCM(link_key, tag_length=4).encrypt(nonce, zcl, header + bytes(aux))


addresses = st.one_of(st.tuples(st.just(F.ADDR_SHORT), st.integers(0, 0xFFFF)),
                      st.tuples(st.just(F.ADDR_EXT), st.integers(0, 2**64 - 1)))


@settings(max_examples=200, deadline=None)
@given(dst=addresses, src=addresses, pan=st.integers(0, 0xFFFF), src_pan=st.one_of(st.none(), st.integers(0, 0xFFFF)),
       seq=st.integers(0, 255), nwk_counter=st.integers(0, 2**32 - 1), ieee=st.integers(0, 2**64 - 1),
       dst_ieee=st.one_of(st.none(), st.integers(0, 2**64 - 1)), radius=st.integers(0, 255),
       mac_level=st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7]), key_id_mode=st.integers(0, 3),
       key_source=st.integers(0, 2**32 - 1), cluster=st.integers(0, 0xFFFF), data=st.binary(max_size=20))
def test_any_description_round_trips(dst, src, pan, src_pan, seq, nwk_counter, ieee, dst_ieee, radius, mac_level,
                                     key_id_mode, key_source, cluster, data):
    secured = mac_level > 0
    if secured:
        src = (F.ADDR_EXT, src[1])
    mac = F.MacHeader(seq=seq, dst_pan=pan, dst_mode=dst[0], dst_addr=dst[1], src_mode=src[0], src_addr=src[1],
                      src_pan=src_pan, security=secured, sec_level=mac_level or 5, key_id_mode=key_id_mode,
                      key_source=key_source, frame_counter=nwk_counter, frame_version=int(secured))
    nwk = F.NwkHeader(dst=0x1234, src=0x5678, seq=seq, radius=radius, src_ieee=ieee, dst_ieee=dst_ieee,
                      frame_counter=nwk_counter)
    frame = F.Frame(mac, nwk, F.ApsHeader(counter=seq, cluster=cluster), None,
                    F.ImageBlockResponse(file_offset=nwk_counter, data=data))
    mac_key = bytes(range(16))
    try:
        psdu = F.build(frame, nwk_key=NWK_KEY, mac_key=mac_key)
    except FrameError as exc:      # long addresses, big MICs and data can exceed the PSDU: refused, clearly
        assert "127-byte" in str(exc)
        return
    assert len(psdu) <= F.MAX_PSDU
    p = F.parse(psdu, F.Keys(nwk_key=NWK_KEY, mac_key=mac_key))
    got = p.frame
    assert got.mac.src_pan == src_pan      # None: PAN ID compression, on the air and back
    assert (got.mac.dst_addr, got.mac.src_addr, got.mac.seq, got.mac.dst_pan) == (dst[1], src[1], seq, pan)
    if secured:
        assert (got.mac.sec_level, got.mac.key_id_mode, got.mac.frame_counter) == (mac_level, key_id_mode, nwk_counter)
        assert got.mac.key_source == (key_source if key_id_mode >= 2 else 0)
    assert (got.nwk.src_ieee, got.nwk.dst_ieee, got.nwk.radius, got.nwk.frame_counter) == (ieee, dst_ieee, radius,
                                                                                           nwk_counter)
    assert got.aps.cluster == cluster
    if cluster == F.OTA_CLUSTER:
        assert got.ota == frame.ota
    else:   # another cluster: the ZCL command stays unparsed payload
        assert got.ota is None and got.payload.endswith(data)


def test_parse_many_equals_parse(aes_tier):
    """The batch parser (MAC and NWK CCM* of all frames interleaved) says what parse says, frame by frame."""
    mac_key = bytes(range(16, 32))
    psdus = []
    for i in range(120):
        f = block_response(data=bytes([i]) * (10 + i % 12 if i % 3 == 0 else 20 + i % 17), counter=i)
        if i % 3 == 0:
            f.mac = F.MacHeader(dst_mode=F.ADDR_EXT, dst_addr=2, src_mode=F.ADDR_EXT, src_addr=0x00124B00000000AA,
                                security=True, sec_level=4 + i % 4, frame_counter=i)
        psdu = bytearray(F.build(f, nwk_key=NWK_KEY, mac_key=mac_key))
        if i % 7 == 1:
            psdu[-4] ^= 1                                       # bad FCS
        elif i % 7 == 2:
            psdu = bytearray(with_fcs(bytes(psdu[:-6]) + bytes([psdu[-6] ^ 1]) + bytes(psdu[-5:-2])))  # forged MIC
        elif i % 7 == 3:
            psdu = bytearray(with_fcs(bytes(psdu[:10 + i % 30])))   # truncated
        psdus.append(bytes(psdu))
    for keys in (F.Keys(nwk_key=NWK_KEY, mac_key=mac_key), F.Keys(nwk_key=NWK_KEY), F.Keys()):
        many = F.parse_many(psdus, keys)
        assert many == [F.parse(p, keys, strict=False) for p in psdus]
    outcomes = {(r.mac_security, r.nwk_security, r.fcs_ok) for r in F.parse_many(psdus, F.Keys(nwk_key=NWK_KEY,
                                                                                              mac_key=mac_key))}
    assert {("none", "ok", True), ("ok", "ok", True), ("none", "none", False)} <= outcomes
    assert any("bad-mic" in o for o in outcomes)
