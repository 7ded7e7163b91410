"""Real processes and servers for the DCC stand-in tests: the stand-in (`althan-ota dcc serve`) on a free port of
127.0.0.1, and a user endpoint (aiohttp, in a thread) that verifies, parses and stores what it is delivered."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
from aiohttp import web

from althan_ota.duis import Verifier, read_message
from althan_ota.fleet.synthetic import generate_fleet
from duis_data import CERTS, DSP, DSP_CERT, DSP_KEY, SCHEMA_PATH, trust

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_fleet(path: Path, installations: int, seed: int = 1, **shares) -> Path:
    pq.write_table(generate_fleet(installations, seed=seed, **shares).table, path)
    return path


class StandIn:
    """`althan-ota dcc serve` as a child process; ``url`` once it listens. ``extra``: more options (``--plan``,
    ``--seed``, ``--time-scale``, ...); ``schema``: validate requests against the DUIS XSD; ``port``: listen
    there (a restart on the same port), else on a free one."""

    def __init__(self, fleet: Path, state: Path, deliver_to: str | None = None, *extra: str, schema: bool = True,
                 port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "althan_ota", "dcc", "serve", "--fleet", str(fleet), "--certs", str(CERTS),
                   "--state", str(state), "--key", str(DSP_KEY), "--cert", str(DSP_CERT), "--dsp-id", DSP,
                   "--port", str(self.port), *extra]
        if schema:
            command += ["--schema", str(SCHEMA_PATH)]
        if deliver_to:
            command += ["--deliver-to", deliver_to]
        self.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True)
        line = self.process.stdout.readline()
        if "listening" not in line:
            self.process.kill()
            raise RuntimeError(f"stand-in did not start: {line!r} {self.process.stderr.read()}")

    def requests(self) -> int:
        """How many requests the stand-in has answered since it started."""
        return self.status()["requests"]

    def status(self) -> dict:
        import json

        with urllib.request.urlopen(self.url + "/status", timeout=10) as r:
            return json.loads(r.read())

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class UserEndpoint:
    """The user's listener: verifies (DSP signature) and parses each delivery, stores it by message identity,
    answers 200 once stored. ``fail_first``: answer 500 to that many deliveries first."""

    def __init__(self, fail_first: int = 0, port: int | None = None):
        self.fail_first = fail_first
        self.received: dict[str, object] = {}       # ResponseID -> Message
        self.arrivals: dict[str, tuple[float, float]] = {}    # ResponseID -> (wall time, emulated time header)
        self.deliveries = 0
        self.duplicates = 0
        self.refused = 0
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._verifier = Verifier(trust(), expected_signers=[DSP])
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    async def _handle(self, request):
        body = await request.read()
        with self._lock:
            self.deliveries += 1
            if self.fail_first > 0:
                self.fail_first -= 1
                return web.Response(status=500, text="not now")
        try:
            message = read_message(body, self._verifier)
        except Exception as exc:           # noqa: BLE001 - refused and counted; the test asserts on it
            with self._lock:
                self.refused += 1
            return web.Response(status=400, text=str(exc))
        key = str(message.response_id)
        with self._lock:
            if key in self.received:
                self.duplicates += 1
            self.received[key] = message
            self.arrivals[key] = (time.time(), float(request.headers.get("X-Althan-Emulated-Time", "nan")))
        return web.Response(status=200)

    def _run(self):
        self._loop = asyncio.new_event_loop()
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/duis", self._handle)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._runner = runner
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def wait_for(self, n: int, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if len(self.received) >= n:
                    return
            time.sleep(0.05)
        raise AssertionError(f"{len(self.received)} of {n} messages delivered within {timeout}s")

    def outcomes(self) -> dict[str, list[str]]:
        """device -> outcome keys in delivery-time order."""
        out: dict[str, list[tuple[str, str]]] = {}
        for message in self.received.values():
            for device, key in message.outcomes():
                out.setdefault(device, []).append((message.response_datetime, key))
        return {d: [k for _, k in sorted(v)] for d, v in out.items()}

    def close(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def post(url: str, body: bytes, emulated_time: float | None = None) -> tuple[int, bytes, dict]:
    headers = {"Content-Type": "application/xml"}
    if emulated_time is not None:
        headers["X-Althan-Emulated-Time"] = repr(float(emulated_time))
    request = urllib.request.Request(url + "/duis", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)
