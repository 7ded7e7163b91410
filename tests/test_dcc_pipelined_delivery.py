"""The stand-in's delivery client (dcc/delivery.py) against a real aiohttp server on 127.0.0.1: pipelined POSTs
arrive intact and in order, each counts as delivered only on its own 2xx (Content-Length, chunked and empty
answers read alike), and a server that closes the connection fails exactly the requests it did not answer;
the next batch goes out on a fresh connection."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from althan_ota.dcc.delivery import PipelinedClient
from althan_ota.errors import ParameterError
from dcc_harness import free_port


async def _serve(received: list):
    async def handle(request: web.Request):
        body = await request.read()
        want = request.headers["X-Want"]
        received.append((want, body))
        if want == "500":
            return web.Response(status=500, text="not now")
        if want == "204":
            return web.Response(status=204)
        if want == "chunked":
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(b"stored, ")
            await response.write(b"in parts")
            await response.write_eof()
            return response
        if want == "close":
            return web.Response(text="stored; bye", headers={"Connection": "close"})
        return web.Response(text="stored")

    app = web.Application()
    app.router.add_post("/duis", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/duis"


def test_pipelined_posts_count_each_answer_and_survive_a_closed_connection():
    async def run():
        received: list = []
        runner, url = await _serve(received)
        client = PipelinedClient(url, connections=1)
        try:
            wants = ["200", "500", "chunked", "204", "close", "200", "200"]
            messages = [(f"<m n='{i}'>{'x' * (i * 3000)}</m>".encode(), {"X-Want": w}) for i, w in enumerate(wants)]
            first = await client.post_all(messages)
            second = await client.post_all([(b"<again/>", {"X-Want": "200"})])
            many = await client.post_all([(f"<{i}/>".encode(), {"X-Want": "200"}) for i in range(200)])
        finally:
            await client.close()
            await runner.cleanup()
        return first, second, many, received

    first, second, many, received = asyncio.run(run())
    # after "close" the server answered nothing more on that connection: those two are not delivered
    assert first == [True, False, True, True, True, False, False]
    assert second == [True] and many == [True] * 200
    # the answered ones arrived whole and in order
    assert [want for want, _ in received[:5]] == ["200", "500", "chunked", "204", "close"]
    assert [len(body) for _, body in received[:5]] == [len(f"<m n='{i}'></m>") + i * 3000 for i in range(5)]


def test_a_server_that_is_not_there_fails_every_delivery():
    async def run():
        client = PipelinedClient(f"http://127.0.0.1:{free_port()}/duis", connections=3, timeout_s=5)
        try:
            return await client.post_all([(b"<m/>", {}) for _ in range(7)])
        finally:
            await client.close()

    assert asyncio.run(run()) == [False] * 7


def test_only_http_urls():
    with pytest.raises(ParameterError, match="http"):
        PipelinedClient("ftp://127.0.0.1/duis")
