"""CRC family with pytest-benchmark: ours on every CPU tier and the peers, in one benchmark group per kernel
(pytest-benchmark prints each row's ratio to the fastest of its group). Never asserts on times.

    python -m pytest bench/test_checksum_crc.py --benchmark-enable
"""

from __future__ import annotations

import os

import pytest

from althan_ota.checksum import CRC_ALGORITHMS, crc, crc_blocks
from althan_ota.bench.checksum_crc import BLOCK, MIB, PEERS

DATA = os.urandom(MIB)
@pytest.mark.parametrize("name", CRC_ALGORITHMS)
def test_ours_1mib(benchmark, name, crc_tier):
    benchmark.group = f"crc {name} 1 MiB"
    assert benchmark(crc, DATA, name) == crc(DATA, name)


@pytest.mark.parametrize("name,peer,module,attr",
                         [(name, *p) for name, peers in PEERS.items() for p in peers])
def test_peer_1mib(benchmark, name, peer, module, attr):
    fn = getattr(pytest.importorskip(module), attr)
    benchmark.group = f"crc {name} 1 MiB"
    assert benchmark(fn, DATA) == crc(DATA, name)


def test_ours_blocks(benchmark, crc_tier):
    benchmark.group = f"crc_blocks CRC-16/KERMIT {BLOCK}-byte blocks of 1 MiB"
    assert len(benchmark(crc_blocks, DATA, BLOCK, "CRC-16/KERMIT")) == MIB // BLOCK


def test_peer_blocks_python_loop(benchmark):
    kermit = pytest.importorskip("fastcrc.crc16").kermit
    benchmark.group = f"crc_blocks CRC-16/KERMIT {BLOCK}-byte blocks of 1 MiB"
    out = benchmark(lambda: [kermit(DATA[i:i + BLOCK]) for i in range(0, MIB, BLOCK)])
    assert out[:3] == crc_blocks(DATA[:3 * BLOCK], BLOCK, "CRC-16/KERMIT").tolist()
