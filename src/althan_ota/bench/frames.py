"""Image Block Responses built, protected (NWK CCM*, MIC 4) and given their FCS: ours in C on every AES tier
(one batch call, frames interleaved) and one frame at a time through the Python API, against the same
frames written in Python over cryptography's AESCCM (what a user would otherwise write)."""

from __future__ import annotations

import struct

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from . import Result, best_time
from .. import _backend
from .. import frames as F

KEY = bytes(range(16))
SRC_IEEE = 0x00124B0000C0FFEE
DATA_SIZE = 48
KERNEL = f"Image Block Response {DATA_SIZE} B: build + CCM* + FCS"


def _kermit_table() -> list[int]:
    table = []
    for b in range(256):
        crc = b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_KERMIT = _kermit_table()


def python_image_block_response(ccm: AESCCM, data: bytes, offset: int, counter: int, seq: int) -> bytes:
    """One frame as in ``template()``: MAC, NWK + security, APS, ZCL OTA header, all in Python."""
    mac = struct.pack("<HBHHH", 0x8861, seq, 0x1A62, 0x4C2E, 0x0000)
    nwk = struct.pack("<HHHBBQ", 0x1248, 0x4C2E, 0x0000, 30, seq, SRC_IEEE)
    aux = struct.pack("<BIQB", 0x28, counter, SRC_IEEE, 0)
    aps = struct.pack("<BBHHBB", 0x00, 1, 0x0019, 0x0109, 1, seq)
    zcl = struct.pack("<BBBBHHIIB", 0x19, seq, 0x05, 0x00, 0x1234, 0x0001, 2, offset, len(data)) + data
    nonce = struct.pack("<QIB", SRC_IEEE, counter, 0x2D)
    protected = ccm.encrypt(nonce, aps + zcl, nwk + bytes([0x2D]) + aux[1:])
    body = mac + nwk + aux + protected
    crc = 0
    for b in body:
        crc = (crc >> 8) ^ _KERMIT[(crc ^ b) & 0xFF]
    return body + crc.to_bytes(2, "little")


def template() -> F.Frame:
    return F.Frame(F.MacHeader(dst_pan=0x1A62, dst_addr=0x4C2E, src_addr=0x0000, ack_request=True),
                   F.NwkHeader(dst=0x4C2E, src=0x0000, src_ieee=SRC_IEEE),
                   F.ApsHeader(),
                   F.ZclHeader(command=5, server_to_client=True, disable_default_response=True),
                   F.ImageBlockResponse(manufacturer=0x1234, image_type=0x0001, file_version=2))


def workload(n: int):
    rng = np.random.default_rng(9)
    data = rng.integers(0, 256, (n, DATA_SIZE), dtype=np.uint8)
    offsets = np.arange(n, dtype=np.uint32) * DATA_SIZE
    counters = np.arange(n, dtype=np.uint32) + 1000
    seqs = (np.arange(n) % 256).astype(np.uint8)
    return data, offsets, counters, seqs


def run(quick: bool) -> list[Result]:
    n = 1024 if quick else 16384
    data, offsets, counters, seqs = workload(n)
    tmpl = template()
    before = _backend.backend()["aes"]   # frames protect with the AES family's tiers
    ccm = AESCCM(KEY, tag_length=4)

    m = max(n // 16, 64)   # the Python peer and our per-frame API on fewer frames, scaled per frame
    rows = [bytes(r) for r in data[:m]]

    def peer():
        for i in range(m):
            python_image_block_response(ccm, rows[i], int(offsets[i]), int(counters[i]), int(seqs[i]))

    peer_t = best_time(peer, quick) * n / m
    results = [Result("frames", KERNEL, "python+cryptography", peer_t, n, "frame")]

    frames = []
    for i in range(m):
        f = template()
        f.ota.data, f.ota.file_offset = rows[i], int(offsets[i])
        f.nwk.frame_counter = int(counters[i])
        frames.append(f)
    single_t = best_time(lambda: [F.build(f, nwk_key=KEY) for f in frames], quick) * n / m
    results.append(Result("frames", KERNEL, f"althan-ota[{before}] F.build per frame", single_t, n,
                          "frame", baseline=results[0].impl, ratio=peer_t / single_t))
    try:
        for tier in _backend.tiers()["aes"]:
            _backend.set_backend(tier, "aes")
            t = best_time(lambda: F.build_image_block_responses(tmpl, data, offsets, counters, seqs, nwk_keys=KEY),
                          quick)
            results.append(Result("frames", KERNEL, f"althan-ota[{tier}] batch", t, n, "frame",
                                  baseline=results[0].impl, ratio=peer_t / t))
    finally:
        _backend.set_backend(before, "aes")
    return results
