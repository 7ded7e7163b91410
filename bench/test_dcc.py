"""pytest-benchmark: signed DCC alerts delivered over HTTP on 127.0.0.1 to the load test's listener (verify,
parse, store, then 200) against a bare aiohttp endpoint answering 200, in one benchmark group. The listener's
run checks that every message was stored once.

Run with ``python -m pytest bench/test_dcc.py --benchmark-enable``.
"""

import asyncio

import pytest
from aiohttp import web

from althan_ota.bench.dcc import _listener_time, _serve_and_post
from althan_ota.bench.duis import activation_alert, credentials
from althan_ota.duis import Signer

N = 500
GROUP = f"dcc-deliver-{N}"


@pytest.fixture(scope="module")
def material():
    _, pem, certificate = credentials()
    signer = Signer(pem, certificate)
    return certificate, [signer.sign(activation_alert(i)) for i in range(N)]


@pytest.mark.benchmark(group=GROUP)
def test_deliver_to_listener(benchmark, material):
    certificate, messages = material
    seconds, stored = benchmark.pedantic(lambda: _listener_time(messages, certificate, 2), rounds=3)
    assert stored == N and seconds > 0


@pytest.mark.benchmark(group=GROUP)
def test_deliver_to_bare_aiohttp(benchmark, material):
    _, messages = material

    async def bare(request):
        await request.read()
        return web.Response(status=200)

    assert benchmark.pedantic(lambda: asyncio.run(_serve_and_post(bare, messages)), rounds=3) > 0
