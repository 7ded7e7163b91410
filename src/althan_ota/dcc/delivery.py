"""Delivering signed messages to the user's endpoint: one DUIS message per ``POST``, as the DCC sends them, over
a few persistent HTTP/1.1 connections with requests pipelined on each (written back to back, the answers read
in order). A general-purpose client (aiohttp) spent more of the stand-in's time per message than signing it;
this one writes each request as one buffer and reads only what a delivery needs from the answer: its status.

A message counts as delivered only on a 2xx answer to its own request. Anything else (another status, a
connection that breaks or closes early, an answer that cannot be read, the timeout) fails the messages whose
answers had not come, and the connection is dropped; the caller retries them (the receiver de-duplicates by
ResponseID, so a message whose answer was lost and that is sent again is stored once).
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
from urllib.parse import urlsplit

from ..errors import ParameterError

MAX_HEADER_LINES = 100
MAX_LINE = 8192


class PipelinedClient:
    """POSTs to one URL over up to ``connections`` keep-alive connections."""

    def __init__(self, url: str, connections: int = 4, timeout_s: float = 30.0,
                 ssl_context: ssl_module.SSLContext | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ParameterError(f"--deliver-to {url!r}: give an http:// or https:// URL")
        self.host = parts.hostname
        # https: ssl_context (the stand-in's TlsConfig) or the system's defaults
        self.ssl = (ssl_context or ssl_module.create_default_context()) if parts.scheme == "https" else None
        self.port = parts.port or (443 if self.ssl else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        netloc = self.host if parts.port is None else f"{self.host}:{parts.port}"
        self._head = f"POST {self.path} HTTP/1.1\r\nHost: {netloc}\r\nContent-Type: application/xml\r\n".encode()
        self.connections, self.timeout_s = max(1, connections), timeout_s
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post_all(self, messages: list[tuple[bytes, dict[str, str]]]) -> list[bool]:
        """POST each ``(body, extra headers)``; True for each answered 2xx, in order."""
        results = [False] * len(messages)
        shares = [list(range(k, len(messages), self.connections)) for k in range(self.connections)]
        await asyncio.gather(*(self._exchange(share, messages, results) for share in shares if share))
        return results

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()

    async def _exchange(self, share: list[int], messages, results: list[bool]) -> None:
        try:
            connection = self._idle.pop() if self._idle else await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, ssl=self.ssl), self.timeout_s)
        except (OSError, asyncio.TimeoutError):
            return
        reader, writer = connection
        try:
            keep = await asyncio.wait_for(self._pipeline(reader, writer, share, messages, results), self.timeout_s)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            keep = False
        if keep:
            self._idle.append(connection)
        else:
            writer.close()

    async def _pipeline(self, reader, writer, share, messages, results) -> bool:
        """Write every request of ``share``, read the answers in order; whether the connection stays open."""
        for i in share:
            body, headers = messages[i]
            extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            writer.write(self._head + f"Content-Length: {len(body)}\r\n{extra}\r\n".encode() + body)
        drained = asyncio.ensure_future(writer.drain())
        try:
            for i in share:
                status, keep = await _read_answer(reader)
                results[i] = 200 <= status < 300
                if not keep:
                    return False        # the server closes: the rest were not answered (and are retried)
        finally:
            if not drained.done():
                drained.cancel()
        await drained
        return True


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """One HTTP/1.1 response: (status, whether the connection may be reused). Its body is read and dropped."""
    line = await reader.readuntil(b"\r\n")
    version, _, rest = line.decode("latin-1").partition(" ")
    if not version.startswith("HTTP/1.") or len(rest) < 3 or not rest[:3].isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {line[:80]!r}")
    status = int(rest[:3])
    length, chunked, keep = None, False, version == "HTTP/1.1"
    for _ in range(MAX_HEADER_LINES):
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            break
        if len(line) > MAX_LINE:
            raise ValueError("an answer's header line is too long")
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value
        elif name == "connection":
            keep = "close" not in value if version == "HTTP/1.1" else "keep-alive" in value
    else:
        raise ValueError("an answer with too many header lines")
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    elif status >= 200 and status not in (204, 304):
        await reader.read()             # the body runs to the end of the connection
        keep = False
    return status, keep
