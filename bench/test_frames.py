"""pytest-benchmark: Image Block Responses built, NWK-protected (CCM*, MIC 4) and given their FCS: ours in C
(one batch call) on every AES tier, against the same frames in Python over
cryptography's AESCCM, in one benchmark group. Both produce identical bytes (checked).

Run with ``python -m pytest bench/test_frames.py --benchmark-enable``.
"""

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from althan_ota import frames as F
from althan_ota.bench.frames import KEY, python_image_block_response, template, workload

N = 2048
GROUP = f"Image Block Response build + CCM* + FCS, {N} frames"


@pytest.fixture(scope="module")
def work():
    return workload(N)


@pytest.mark.benchmark(group=GROUP)
def test_batch_althan(benchmark, work, aes_tier):
    data, offsets, counters, seqs = work
    out, lens = benchmark(F.build_image_block_responses, template(), data, offsets, counters, seqs, nwk_keys=KEY)
    ccm = AESCCM(KEY, tag_length=4)
    assert bytes(out[-1, :lens[-1]]) == python_image_block_response(ccm, bytes(data[-1]), int(offsets[-1]),
                                                                    int(counters[-1]), int(seqs[-1]))


@pytest.mark.benchmark(group=GROUP)
def test_python_cryptography(benchmark, work):
    data, offsets, counters, seqs = work
    rows = [bytes(r) for r in data]
    ccm = AESCCM(KEY, tag_length=4)

    def run():
        return [python_image_block_response(ccm, rows[i], int(offsets[i]), int(counters[i]), int(seqs[i]))
                for i in range(N)]

    frames = benchmark(run)
    assert len(frames) == N
