"""The DCC stand-in's delivery path: signed DCC alerts POSTed over HTTP on 127.0.0.1 (64 in flight, as ``dcc
serve`` delivers them) to the load test's listener, which verifies and parses them on worker processes and
stores them in SQLite before answering 200 — against the same client posting to a bare aiohttp endpoint that
answers 200 at once (the transport's ceiling on this machine). The whole campaign through a stand-in process is
``althan-ota dcc load``.

The keys and certificate are made for the run (the duis suite's throwaway P-256 key).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from . import Result, compare
from .duis import activation_alert, credentials

SUITE = "dcc"
IN_FLIGHT = 64


async def _post_all(url: str, messages: list[bytes]) -> float:
    """Deliver as the stand-in does (dcc/delivery.py): IN_FLIGHT keep-alive connections, 512 at a time."""
    from ..dcc.delivery import PipelinedClient

    client = PipelinedClient(url, connections=IN_FLIGHT)
    try:
        start = time.perf_counter()
        for i in range(0, len(messages), 512):
            answered = await client.post_all([(m, {}) for m in messages[i:i + 512]])
            if not all(answered):
                raise AssertionError(f"{answered.count(False)} deliveries not answered 2xx")
        return time.perf_counter() - start
    finally:
        await client.close()


async def _serve_and_post(handler, messages: list[bytes], before=None) -> float:
    from aiohttp import web

    from ..dcc.load import _free_port

    app = web.Application()
    app.router.add_post("/duis", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    tasks = [asyncio.create_task(t) for t in (before or [])]
    try:
        return await _post_all(f"http://127.0.0.1:{port}/duis", messages)
    finally:
        for t in tasks:
            t.cancel()
        await runner.cleanup()


def _listener_time(messages, certificate, workers) -> tuple[float, int]:
    from ..dcc.load import Listener
    from ..duis import TrustStore

    with tempfile.TemporaryDirectory() as tmp:
        # the throwaway certificate names no SMKI entity, so the signer is checked by the trust store alone
        listener = Listener(TrustStore([certificate]), None, Path(tmp) / "received.sqlite", workers)
        try:
            listener.reader.read(messages[:8])                 # start the workers before timing
            seconds = asyncio.run(_serve_and_post(listener.handle, messages, [listener.consume()]))
            if listener.stored != len(messages) or listener.refused or listener.duplicates:
                raise AssertionError(f"listener stored {listener.stored} of {len(messages)}")
            return seconds, listener.stored
        finally:
            listener.close()


def run(quick: bool) -> list[Result]:
    from aiohttp import web

    from ..duis import Signer
    from ..duis.bulk import default_workers

    n = 500 if quick else 5000
    _, pem, certificate = credentials()
    signer = Signer(pem, certificate)
    messages = [signer.sign(activation_alert(i)) for i in range(n)]
    kernel = f"DCC alerts over HTTP, {n} messages, {IN_FLIGHT} in flight"

    async def bare(request):
        await request.read()
        return web.Response(status=200)

    peer = Result(SUITE, kernel, "aiohttp endpoint answering 200 (no verify, no store)",
                  asyncio.run(_serve_and_post(bare, messages)), n, "message")
    workers = default_workers()
    seconds, _ = _listener_time(messages, certificate, workers)
    ours = Result(SUITE, kernel, f"althan-ota listener: verify + parse ({workers} processes) + SQLite store",
                  seconds, n, "message")
    results: list[Result] = []
    compare(results, ours, peer)
    return results
