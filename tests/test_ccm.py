"""AES-128 CCM* (althan_ota.ccm) on every AES tier: published vectors (RFC 3610, NIST SP 800-38C, ZigBee
05-3474 Annex C.3, IEEE 802.15.4-2006 Annex C; see /work/shared/VECTORS.md), differential tests against
cryptography's AESCCM (OpenSSL) and a CTR reference for MIC 0, single frame against batch in every layout,
tampering, bad parameters, and the replay window against a plain Python loop."""

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from hypothesis import given, settings, strategies as st

from althan_ota import ccm
from althan_ota.errors import InvalidTag, ParameterError

KEY_C0 = bytes(range(0xC0, 0xD0))


def seq(a: int, b: int) -> bytes:
    """Bytes a..b inclusive, as the vector tables write them (e.g. 08…1E)."""
    return bytes(range(a, b + 1))


# RFC 3610 section 8, packet vectors 1-3
RFC3610 = [
    ("00000003020100A0A1A2A3A4A5", seq(0x08, 0x1E),
     "588c979a61c663d2f066d0c2c0f989806d5f6b61dac384" "17e8d12cfdf926e0"),
    ("00000004030201A0A1A2A3A4A5", seq(0x08, 0x1F),
     "72c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3b" "a091d56e10400916"),
    ("00000005040302A0A1A2A3A4A5", seq(0x08, 0x20),
     "51b1e5f44a197d1da46b0f8e2d282ae871e838bb64da859657" "4adaa76fbd9fb0c5"),
]


@pytest.mark.parametrize("nonce,pt,expected", RFC3610)
def test_rfc3610_packet_vectors(aes_tier, nonce, pt, expected):
    out = ccm.encrypt(KEY_C0, bytes.fromhex(nonce), pt, seq(0, 7), mic_len=8)
    assert out.hex() == expected
    assert ccm.decrypt(KEY_C0, bytes.fromhex(nonce), out, seq(0, 7), mic_len=8) == pt


# NIST SP 800-38C Appendix C, examples 1-3
SP800_38C = [
    (4, seq(0x10, 0x16), seq(0x00, 0x07), seq(0x20, 0x23), "7162015b4dac255d"),
    (6, seq(0x10, 0x17), seq(0x00, 0x0F), seq(0x20, 0x2F), "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd"),
    (8, seq(0x10, 0x1B), seq(0x00, 0x13), seq(0x20, 0x37),
     "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951"),
]


@pytest.mark.parametrize("mic_len,nonce,aad,pt,expected", SP800_38C)
def test_sp800_38c_examples(aes_tier, mic_len, nonce, aad, pt, expected):
    key = seq(0x40, 0x4F)
    assert ccm.encrypt(key, nonce, pt, aad, mic_len).hex() == expected
    assert ccm.decrypt(key, nonce, bytes.fromhex(expected), aad, mic_len) == pt


def test_zigbee_annex_c3_ccm_star(aes_tier):
    # ZigBee specification 05-3474 Annex C.3: source A0..A7 (little-endian on the air), frame counter
    # 0x00010203, security control 0x06
    nonce = ccm.zigbee_nonce(0xA7A6A5A4A3A2A1A0, 0x00010203, 0x06)
    assert nonce.hex() == "a0a1a2a3a4a5a6a70302010006"
    out = ccm.encrypt(KEY_C0, nonce, seq(0x08, 0x1E), seq(0, 7), 8)
    assert out.hex() == "1a55a36abb6c610d066b3375649cef10d4664ecad854a80a895cc1d8ff9469"


# IEEE 802.15.4-2006 Annex C: source ACDE480000000001, frame counter 5
SOURCE_802154 = 0xACDE480000000001


def test_ieee802154_beacon_mic64(aes_tier):
    # C.2.1: security level 2 (MIC-64), everything authenticated, nothing encrypted
    nonce = ccm.ieee802154_nonce(SOURCE_802154, 5, 2)
    assert nonce.hex() == "acde4800000000010000000502"
    aad = bytes.fromhex("08D0842143010000000048DEAC" "0205000000" "55CF000051525354")
    assert ccm.encrypt(KEY_C0, nonce, b"", aad, 8).hex().upper() == "223BC1EC841AB553"


def test_ieee802154_data_encryption_only(aes_tier):
    # C.2.2: security level 4 (ENC): CCM* with no MIC
    nonce = ccm.ieee802154_nonce(bytes.fromhex("ACDE480000000001"), 5, 4)
    header = bytes.fromhex("69DC842143020000000048DEAC010000000048DEAC" "0405000000")
    out = ccm.encrypt(KEY_C0, nonce, b"abcd", header, 0)
    assert out.hex().upper() == "D43E022B"
    assert ccm.decrypt(KEY_C0, nonce, out, header, 0) == b"abcd"


def test_ieee802154_command_enc_mic64(aes_tier):
    # C.2.3: security level 6 (ENC-MIC-64)
    nonce = ccm.ieee802154_nonce(SOURCE_802154, 5, 6)
    aad = bytes.fromhex("2BDC842143020000000048DEACFFFF010000000048DEAC" "0605000000" "01")
    out = ccm.encrypt(KEY_C0, nonce, bytes([0xCE]), aad, 8)
    assert out.hex().upper() == "D8" "4FDE529061F9C6F1"


def test_eui64_bytes_are_most_significant_first():
    as_int = ccm.zigbee_nonce(0x0011223344556677, 1, 5)
    as_bytes = ccm.zigbee_nonce(bytes.fromhex("0011223344556677"), 1, 5)
    assert as_int == as_bytes
    assert as_int[:8] == bytes.fromhex("7766554433221100")
    assert ccm.ieee802154_nonce(bytes.fromhex("0011223344556677"), 1, 5)[:8].hex() == "0011223344556677"


@pytest.mark.parametrize("call", [
    lambda: ccm.zigbee_nonce(bytes(7), 0, 0),
    lambda: ccm.zigbee_nonce(-1, 0, 0),
    lambda: ccm.zigbee_nonce(1 << 64, 0, 0),
    lambda: ccm.zigbee_nonce(0, 1 << 32, 0),
    lambda: ccm.zigbee_nonce(0, 0, 256),
    lambda: ccm.ieee802154_nonce(0, 0, 8),
])
def test_nonce_helper_errors(call):
    with pytest.raises(ParameterError):
        call()


# --- differential against OpenSSL ------------------------------------------------------------------------

NONCE_LENGTHS = range(7, 14)
MIC_LENGTHS = (4, 6, 8, 10, 12, 14, 16)


def ctr_reference(key: bytes, nonce: bytes, data: bytes) -> bytes:
    """CCM* with MIC 0: AES-CTR from counter block 1 (flags L-1, nonce, counter)."""
    block1 = bytes([14 - len(nonce)]) + nonce + (1).to_bytes(15 - len(nonce), "big")
    return Cipher(algorithms.AES(key), modes.CTR(block1)).encryptor().update(data)


@settings(max_examples=150, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), nonce_len=st.sampled_from(NONCE_LENGTHS),
       mic_len=st.sampled_from(MIC_LENGTHS), aad=st.binary(max_size=300), pt=st.binary(max_size=300),
       data=st.data())
def test_matches_openssl(aes_tier, key, nonce_len, mic_len, aad, pt, data):
    nonce = data.draw(st.binary(min_size=nonce_len, max_size=nonce_len))
    expected = AESCCM(key, mic_len).encrypt(nonce, pt, aad)
    out = ccm.encrypt(key, nonce, pt, aad, mic_len)
    assert out == expected
    assert ccm.decrypt(key, nonce, out, aad, mic_len) == pt


@settings(max_examples=60, deadline=None)
@given(key=st.binary(min_size=16, max_size=16), nonce_len=st.sampled_from(NONCE_LENGTHS),
       aad=st.binary(max_size=64), pt=st.binary(max_size=300), data=st.data())
def test_mic0_is_ctr_from_counter_one(aes_tier, key, nonce_len, aad, pt, data):
    nonce = data.draw(st.binary(min_size=nonce_len, max_size=nonce_len))
    out = ccm.encrypt(key, nonce, pt, aad, 0)
    assert out == ctr_reference(key, nonce, pt)
    assert ccm.decrypt(key, nonce, out, aad, 0) == pt


@pytest.mark.parametrize("aad_len,pt_len", [(0, 5000), (65279, 3), (65280, 17), (70000, 0), (100, 65535)])
def test_long_inputs_and_the_six_byte_aad_prefix(aes_tier, aad_len, pt_len):
    # 65280 (0xFF00) bytes and more of AAD switch to the 0xFFFE + 32-bit length prefix
    rng = np.random.default_rng(aad_len + pt_len)
    key, nonce = rng.bytes(16), rng.bytes(13)
    aad, pt = rng.bytes(aad_len), rng.bytes(pt_len)
    out = ccm.encrypt(key, nonce, pt, aad, 16)
    assert out == AESCCM(key, 16).encrypt(nonce, pt, aad)
    assert ccm.decrypt(key, nonce, out, aad, 16) == pt


def test_every_nonce_and_mic_length_on_boundaries(aes_tier):
    rng = np.random.default_rng(7)
    for nonce_len in NONCE_LENGTHS:
        for mic_len in MIC_LENGTHS:
            for aad_len in (0, 1, 13, 14, 15, 16, 29, 30, 31):
                for pt_len in (0, 1, 15, 16, 17, 32, 33):
                    key, nonce = rng.bytes(16), rng.bytes(nonce_len)
                    aad, pt = rng.bytes(aad_len), rng.bytes(pt_len)
                    assert ccm.encrypt(key, nonce, pt, aad, mic_len) == \
                        AESCCM(key, mic_len).encrypt(nonce, pt, aad), (nonce_len, mic_len, aad_len, pt_len)


# --- tampering -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mic_len", [4, 8, 16])
def test_any_tampering_fails(aes_tier, mic_len):
    key, nonce, aad, pt = bytes(range(16)), bytes(range(13)), b"header bytes", b"payload of the frame"
    good = ccm.encrypt(key, nonce, pt, aad, mic_len)
    for i in range(len(good)):   # every byte of ciphertext and MIC
        bad = bytearray(good)
        bad[i] ^= 0x01
        with pytest.raises(InvalidTag):
            ccm.decrypt(key, nonce, bytes(bad), aad, mic_len)
    with pytest.raises(InvalidTag):
        ccm.decrypt(key, nonce, good, aad[:-1] + b"X", mic_len)
    with pytest.raises(InvalidTag):
        ccm.decrypt(key, bytes(13), good, aad, mic_len)
    with pytest.raises(InvalidTag):
        ccm.decrypt(bytes(16), nonce, good, aad, mic_len)
    with pytest.raises(InvalidTag):
        ccm.decrypt(key, nonce, good[:-1], aad, mic_len)


def test_frame_shorter_than_mic_is_invalid_tag():
    with pytest.raises(InvalidTag):
        ccm.decrypt(bytes(16), bytes(13), b"abc", b"", 8)
    with pytest.raises(ParameterError, match="MIC"):   # a bad MIC length is a parameter error first
        ccm.decrypt(bytes(16), bytes(13), b"abc", b"", 18)


@pytest.mark.parametrize("kwargs,match", [
    (dict(key=bytes(15)), "16 bytes"),
    (dict(nonce=bytes(6)), "7 to 13"),
    (dict(nonce=bytes(14)), "7 to 13"),
    (dict(mic_len=2), "MIC"),
    (dict(mic_len=5), "MIC"),
    (dict(mic_len=18), "MIC"),
    (dict(plaintext=bytes(65536)), "2\\*\\*16"),
])
def test_bad_parameters(kwargs, match):
    args = dict(key=bytes(16), nonce=bytes(13), plaintext=b"x", aad=b"", mic_len=8) | kwargs
    with pytest.raises(ParameterError, match=match):
        ccm.encrypt(**args)


# --- batches ---------------------------------------------------------------------------------------------

def random_frames(rng, n, nonce_len, pt_len, aad_len):
    return (rng.integers(0, 256, (n, nonce_len), dtype=np.uint8),
            rng.integers(0, 256, (n, pt_len), dtype=np.uint8),
            rng.integers(0, 256, (n, aad_len), dtype=np.uint8))


def key_layouts(rng, n):
    table = rng.integers(0, 256, (5, 16), dtype=np.uint8)
    index = rng.integers(0, 5, n)
    per_frame = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    single = rng.integers(0, 256, 16, dtype=np.uint8)
    return {
        "single": (single, None, lambda i: single.tobytes()),
        "table": (table, index, lambda i: table[index[i]].tobytes()),
        "per_frame": (per_frame, None, lambda i: per_frame[i].tobytes()),
    }


@pytest.mark.parametrize("layout", ["single", "table", "per_frame"])
@pytest.mark.parametrize("shape", [(13, 64, 22, 8), (13, 0, 0, 4), (7, 17, 3, 16), (11, 5, 40, 0),
                                   (13, 100, 0, 8)])
def test_fixed_batch_matches_single_frames(aes_tier, layout, shape):
    nonce_len, pt_len, aad_len, mic_len = shape
    rng = np.random.default_rng(sum(shape))
    n = 53   # not a multiple of any lane count, and long enough for the uniform kernels
    nonces, pts, aads = random_frames(rng, n, nonce_len, pt_len, aad_len)
    keys, key_index, key_of = key_layouts(rng, n)[layout]
    out = ccm.encrypt_batch(keys, nonces, pts, aads, mic_len, key_index)
    assert out.shape == (n, pt_len + mic_len)
    for i in range(n):
        assert out[i].tobytes() == ccm.encrypt(key_of(i), nonces[i], pts[i], aads[i], mic_len), i
    back, ok = ccm.decrypt_batch(keys, nonces, out, aads, mic_len, key_index)
    assert ok.dtype == bool and ok.all()
    assert np.array_equal(back, pts)
    if mic_len:
        out[[0, 9, n - 1], -1] ^= 0x80
        back, ok = ccm.decrypt_batch(keys, nonces, out, aads, mic_len, key_index)
        assert list(np.flatnonzero(~ok)) == [0, 9, n - 1]
        assert not back[[0, 9, n - 1]].any()
        assert np.array_equal(back[1:9], pts[1:9])


def pack(frames):
    offsets = np.zeros(len(frames) + 1, np.int64)
    offsets[1:] = np.cumsum([len(f) for f in frames])
    return np.frombuffer(b"".join(frames), np.uint8).copy(), offsets


@pytest.mark.parametrize("layout", ["single", "table", "per_frame"])
def test_ragged_batch_matches_single_frames(aes_tier, layout):
    rng = np.random.default_rng(11)
    n = 70
    nonces = rng.integers(0, 256, (n, 13), dtype=np.uint8)
    pts = [rng.bytes(int(k)) for k in rng.integers(0, 200, n)]
    pts[3] = b""
    aads = [rng.bytes(int(k)) for k in rng.integers(0, 40, n)]
    keys, key_index, key_of = key_layouts(rng, n)[layout]
    buf, offsets = ccm.encrypt_batch(keys, nonces, pack(pts), pack(aads), 8, key_index)
    for i in range(n):
        assert buf[offsets[i]:offsets[i + 1]].tobytes() == ccm.encrypt(key_of(i), nonces[i], pts[i], aads[i])
    (pbuf, poff), ok = ccm.decrypt_batch(keys, nonces, (buf, offsets), pack(aads), 8, key_index)
    assert ok.all()
    assert [pbuf[poff[i]:poff[i + 1]].tobytes() for i in range(n)] == pts


@pytest.mark.parametrize("layout", ["single", "table", "per_frame"])
@pytest.mark.parametrize("mic_len", [0, 4, 8, 16])
def test_ragged_batch_of_few_shapes_matches_single_frames(aes_tier, layout, mic_len):
    """Captures have a handful of frame sizes: frames of a common shape run through the fixed-shape kernels
    (staged into fixed strides), the rare ones through the mixed-shape kernel; all must agree with one
    frame at a time, in frame order, tampered and short frames included."""
    rng = np.random.default_rng(mic_len + len(layout))
    n = 900
    lengths = rng.choice([64, 64, 64, 50, 33, 16, 0], n)
    rare = rng.random(n) < 0.05
    lengths[rare] = rng.integers(0, 200, int(rare.sum()))
    aad_lengths = rng.choice([22, 22, 0, 5], n)
    nonces = rng.integers(0, 256, (n, 13), dtype=np.uint8)
    pts = [rng.bytes(int(k)) for k in lengths]
    aads = [rng.bytes(int(k)) for k in aad_lengths]
    keys, key_index, key_of = key_layouts(rng, n)[layout]
    buf, offsets = ccm.encrypt_batch(keys, nonces, pack(pts), pack(aads), mic_len, key_index)
    frames = [buf[offsets[i]:offsets[i + 1]].tobytes() for i in range(n)]
    assert frames == [ccm.encrypt(key_of(i), nonces[i], pts[i], aads[i], mic_len) for i in range(n)]
    if mic_len:
        tampered = sorted(rng.choice(n, 40, replace=False).tolist())
        for i in tampered:
            if frames[i]:
                frames[i] = frames[i][:-1] + bytes([frames[i][-1] ^ 1])
        frames[7] = frames[7][:mic_len - 1]          # shorter than its MIC
        bad = sorted({i for i in tampered if frames[i]} | {7})
    else:
        bad = []
    (pbuf, poff), ok = ccm.decrypt_batch(keys, nonces, pack(frames), pack(aads), mic_len, key_index)
    assert list(np.flatnonzero(~ok)) == bad
    for i in range(n):
        got = pbuf[poff[i]:poff[i + 1]].tobytes()
        assert got == (bytes(len(got)) if i in bad else pts[i]), i


def test_ragged_decrypt_marks_short_and_forged_frames():
    rng = np.random.default_rng(3)
    key = rng.bytes(16)
    nonces = rng.integers(0, 256, (3, 13), dtype=np.uint8)
    good = ccm.encrypt(key, nonces[0], b"hello", b"", 8)
    forged = bytearray(ccm.encrypt(key, nonces[2], b"world", b"", 8))
    forged[0] ^= 1
    (pbuf, poff), ok = ccm.decrypt_batch(np.frombuffer(key, np.uint8), nonces,
                                         pack([good, b"short", bytes(forged)]), None, 8)
    assert ok.tolist() == [True, False, False]
    assert poff.tolist() == [0, 5, 5, 10]
    assert pbuf[:5].tobytes() == b"hello" and not pbuf[5:].any()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 40), nonce_len=st.sampled_from(NONCE_LENGTHS),
       mic_len=st.sampled_from((0,) + MIC_LENGTHS), pt_len=st.integers(0, 70), aad_len=st.integers(0, 40),
       seed=st.integers(0, 2**32 - 1))
def test_batch_matches_openssl(aes_tier, n, nonce_len, mic_len, pt_len, aad_len, seed):
    rng = np.random.default_rng(seed)
    nonces, pts, aads = random_frames(rng, n, nonce_len, pt_len, aad_len)
    keys = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    out = ccm.encrypt_batch(keys, nonces, pts, aads, mic_len)
    for i in range(n):
        k, nn, p, a = keys[i].tobytes(), nonces[i].tobytes(), pts[i].tobytes(), aads[i].tobytes()
        ref = AESCCM(k, mic_len).encrypt(nn, p, a) if mic_len else ctr_reference(k, nn, p)
        assert out[i].tobytes() == ref
    back, ok = ccm.decrypt_batch(keys, nonces, out, aads, mic_len)
    assert ok.all() and np.array_equal(back, pts)


def test_batch_argument_errors():
    keys = np.zeros((4, 16), np.uint8)
    nonces = np.zeros((4, 13), np.uint8)
    pts = np.zeros((4, 10), np.uint8)
    with pytest.raises(ParameterError, match="key_index"):
        ccm.encrypt_batch(keys, nonces, pts, key_index=[0, 1, 2, 4])
    with pytest.raises(ParameterError, match="3 keys for 4 frames"):
        ccm.encrypt_batch(keys[:3], nonces, pts)
    with pytest.raises(ParameterError, match="uint8"):
        ccm.encrypt_batch(keys, nonces, pts.astype(np.int16))
    with pytest.raises(ParameterError, match="nonces"):
        ccm.encrypt_batch(keys, np.zeros((4, 14), np.uint8), pts)
    with pytest.raises(ParameterError, match="3 frames"):
        ccm.encrypt_batch(keys, nonces, pts[:3])
    with pytest.raises(ParameterError, match="offsets"):
        ccm.encrypt_batch(keys, nonces, (np.zeros(10, np.uint8), np.array([0, 5, 3, 8, 10])))
    with pytest.raises(ParameterError, match="within the buffer"):
        ccm.encrypt_batch(keys, nonces, (np.zeros(10, np.uint8), np.array([0, 5, 6, 8, 11])))
    with pytest.raises(ParameterError, match="MIC"):
        ccm.encrypt_batch(keys, nonces, pts, mic_len=3)
    with pytest.raises(ParameterError, match="too long"):
        ccm.encrypt_batch(keys[:1], nonces[:1], (np.zeros(70000, np.uint8), np.array([0, 70000])))
    with pytest.raises(ParameterError, match="cannot hold"):
        ccm.decrypt_batch(keys, nonces, np.zeros((4, 3), np.uint8))


def test_empty_batch():
    out = ccm.encrypt_batch(np.zeros(16, np.uint8), np.zeros((0, 13), np.uint8), np.zeros((0, 9), np.uint8))
    assert out.shape == (0, 17)


# --- replay window ---------------------------------------------------------------------------------------

def replay_reference(state: dict, sources, counters):
    ok = []
    for s, c in zip(sources, counters):
        accepted = c > state.get(s, -1)
        if accepted:
            state[s] = c
        ok.append(accepted)
    return ok


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 12)), max_size=30), max_size=4))
def test_replay_window_matches_loop(batches):
    window, state = ccm.ReplayWindow(), {}
    for batch in batches:
        sources = np.array([s for s, _ in batch], np.uint64) + np.uint64(0xACDE480000000000)
        counters = np.array([c for _, c in batch], np.int64)
        got = window.check_counters(sources, counters)
        assert got.tolist() == replay_reference(state, sources.tolist(), counters.tolist())
    for s, c in state.items():
        assert window.last_counter(s) == c


def test_replay_window_rejects_bad_counters():
    window = ccm.ReplayWindow()
    with pytest.raises(ParameterError):
        window.check_counters([1], [1 << 32])
    with pytest.raises(ParameterError):
        window.check_counters([1, 2], [1])
    assert window.check_counters([], []).tolist() == []
    assert window.check_counters([7, 7, 7], [0xFFFFFFFF, 1, 0xFFFFFFFF]).tolist() == [True, False, False]
    assert window.last_counter(7) == 0xFFFFFFFF and window.last_counter(8) is None


def test_single_frame_accepts_any_contiguous_buffer(aes_tier):
    key, nonce, pt, aad = bytes(range(16)), bytes(range(13)), b"some payload", b"aad"
    expected = ccm.encrypt(key, nonce, pt, aad)
    as_numpy = [np.frombuffer(x, np.uint8) for x in (key, nonce, pt, aad)]
    assert ccm.encrypt(*as_numpy) == expected
    assert ccm.encrypt(bytearray(key), memoryview(nonce), bytearray(pt), memoryview(aad)) == expected
    assert ccm.decrypt(bytearray(key), nonce, bytearray(expected), aad) == pt
    with pytest.raises((ValueError, TypeError)):
        ccm.encrypt(key, nonce, np.zeros(20, np.uint8)[::2], aad)
    with pytest.raises(TypeError):
        ccm.encrypt(key, nonce, "text", aad)


def test_batch_into_callers_output():
    rng = np.random.default_rng(5)
    keys = rng.integers(0, 256, (20, 16), dtype=np.uint8)
    nonces, pts, aads = random_frames(rng, 20, 13, 30, 5)
    out = np.full((20, 38), 0xEE, np.uint8)
    assert ccm.encrypt_batch(keys, nonces, pts, aads, out=out) is out
    assert np.array_equal(out, ccm.encrypt_batch(keys, nonces, pts, aads))
    back = np.empty((20, 30), np.uint8)
    result, ok = ccm.decrypt_batch(keys, nonces, out, aads, out=back)
    assert result is back and ok.all() and np.array_equal(back, pts)
    with pytest.raises(ParameterError, match="shape"):
        ccm.encrypt_batch(keys, nonces, pts, aads, out=np.empty((20, 37), np.uint8))
    with pytest.raises(ParameterError, match="contiguous"):
        ccm.encrypt_batch(keys, nonces, pts, aads, out=np.empty((20, 76), np.uint8)[:, ::2])
