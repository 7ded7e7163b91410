"""The listener: ``POST /duis`` with one signed DUIS response or alert. Each message is verified (signature,
schema when given) and parsed, stored idempotently by its identity, and only then answered 200; a repeated
delivery is answered 200 and ignored; a message that does not verify is answered 400, its reason stored in the
journal's refused table, and moves no device."""

from __future__ import annotations

from typing import Callable

from aiohttp import web

from ..duis import MAX_MESSAGE_BYTES
from ..errors import DuisError

PATH = "/duis"


def make_app(receive: Callable[[bytes, str | None], bool], refuse: Callable[[int, str], None]) -> web.Application:
    """``receive(body, emulated_time_header)`` stores one message (False: a duplicate) or raises DuisError;
    ``refuse(size, reason)`` records a refused one."""
    from .options import EMULATED_TIME_HEADER

    async def duis(request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            refuse(-1, f"more than {MAX_MESSAGE_BYTES} bytes")
            return web.Response(status=413, text="message too large")
        try:
            stored = receive(body, request.headers.get(EMULATED_TIME_HEADER))
        except DuisError as exc:
            refuse(len(body), str(exc))
            return web.Response(status=400, text=f"refused: {exc}")
        return web.Response(text="stored" if stored else "duplicate")

    app = web.Application(client_max_size=MAX_MESSAGE_BYTES)
    app.router.add_post(PATH, duis)
    return app
