"""pytest-benchmark: the emulator's bytes fidelity (every block exchange a real frame: build, CCM*, FCS, bit
errors, receive, reassemble, SHA-256) against the same exchanges in Python over cryptography's AESCCM, a table
CRC-16/KERMIT and hashlib, in one benchmark group, per block exchange (extra_info["exchanges"]).

Run with ``python -m pytest bench/test_emulate_bytes.py --benchmark-enable``.
"""

import numpy as np
import pytest

from althan_ota.bench.emulate_bytes import IMAGE, python_exchanges
from althan_ota.emulate import emulate

INSTALLATIONS = 100
PEER_FRAMES = 400
GROUP = f"bytes fidelity, {IMAGE // 1000} KB image: block exchanges"


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(3).integers(0, 256, IMAGE, dtype=np.uint8).tobytes()


@pytest.mark.benchmark(group=GROUP)
def test_bytes_fidelity_althan(benchmark, image):
    result = benchmark.pedantic(emulate, args=(INSTALLATIONS,), rounds=3, iterations=1,
                                kwargs={"seed": 1, "fidelity": "bytes", "image": image})
    assert result.undetected_errors.sum() == 0
    assert np.array_equal(result.frames_rejected_fcs + result.frames_rejected_mic, result.exchange_retries)
    benchmark.extra_info["exchanges"] = int(result.frames_built.sum())


@pytest.mark.benchmark(group=GROUP)
def test_bytes_python_cryptography(benchmark, image):
    accepted, rejected = benchmark.pedantic(python_exchanges, args=(image, PEER_FRAMES), rounds=3, iterations=1)
    assert accepted + rejected == PEER_FRAMES and rejected == PEER_FRAMES // 50
    benchmark.extra_info["exchanges"] = PEER_FRAMES
