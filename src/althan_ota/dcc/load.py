"""``althan-ota dcc load``: a whole campaign through a DCC stand-in, as a user's DUIS adaptor would drive it.

A minimal DUIS client signs SRV 11.4s (every eligible device of a synthetic fleet, in requests of ``batch``
devices) and posts them to ``dcc serve``; its own aiohttp listener takes every delivered alert, verifies and
parses it on worker processes (:class:`.BulkReader`), stores it in SQLite by its ResponseID and only then
answers 200. The report: messages/s each way, the listener's latency percentiles (arrival to stored), lost and
duplicated messages, and where the time went.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np
from aiohttp import web

from ..campaign.plan import CampaignPlan, target
from ..duis import Signer, TrustStore
from ..duis import requests as rq
from ..duis.bulk import BulkReader
from ..errors import AltHanError, ParameterError
from ..fleet.synthetic import generate_fleet
from .server import EMULATED_TIME_HEADER

READ_CHUNK = 256            # deliveries verified together on the worker processes
BATCHES_IN_FLIGHT = 2
LINGER_S = 0.002            # wait this long after a delivery arrives for others to batch with it
STALL_S = 60.0              # no delivery for this long: stop and report what is missing as lost


@dataclass
class LoadConfig:
    installations: int
    user_id: str
    dsp_id: str
    user_key: bytes
    user_cert: bytes
    dsp_key: Path
    dsp_cert: Path
    certs: Path
    image: bytes
    version: int
    seed: int = 0
    batch: int = 5000
    workers: int | None = None              # listener verification processes (None: one per core)
    sign_workers: int = 1                   # the stand-in's signing processes
    workdir: Path | None = None


@dataclass
class LoadReport:
    devices: int
    requests: int
    scheduled: int
    received: int
    duplicates: int
    refused: int
    wall_s: float
    request_s: float
    latency_ms: dict[str, float]
    breakdown_s: dict[str, float] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)     # CPU seconds per process group (Linux)

    @property
    def lost(self) -> int:
        return self.scheduled - self.received

    def lines(self) -> list[str]:
        rate = self.received / self.wall_s if self.wall_s else 0.0
        lat = ", ".join(f"{k} {v:.1f} ms" for k, v in self.latency_ms.items())
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in self.breakdown_s.items())
        return [f"{self.devices:,} devices in {self.requests} SRV 11.4 requests "
                f"({self.requests / self.request_s:.1f} requests/s, {self.devices / self.request_s:,.0f} devices/s out)",
                f"{self.received:,} alerts signed, delivered, verified, parsed and stored in {self.wall_s:.1f} s: "
                f"{rate:,.0f} messages/s in",
                f"listener latency (arrival to stored): {lat}",
                f"lost {self.lost}, duplicated {self.duplicates}, refused {self.refused}",
                f"wall time in (overlapping; two listener batches at once): {parts}"] + ([
                "CPU per message: " + ", ".join(f"{k} {v / max(1, self.received) * 1e6:.0f} us"
                                                for k, v in self.cpu_s.items())
                + f"; total {sum(self.cpu_s.values()) / max(1, self.received) * 1e6:.0f} us"] if self.cpu_s else [])


class Listener:
    """The user's endpoint: verify + parse in bulk on worker processes, store, then answer 200."""

    def __init__(self, trust: TrustStore, expected_signers, db_path: Path, workers: int | None):
        self.reader = BulkReader(trust, expected_signers=expected_signers, workers=workers)
        self.db = sqlite3.connect(db_path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS received (message_id TEXT PRIMARY KEY, device TEXT, "
                        "outcome TEXT, response_datetime TEXT)")
        self.queue: asyncio.Queue = asyncio.Queue()
        self.latencies: list[float] = []
        self.duplicates = self.refused = self.stored = 0
        self.times = {"verify+parse": 0.0, "store": 0.0}

    async def handle(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        body = await request.read()
        done = asyncio.get_running_loop().create_future()
        await self.queue.put((body, done))
        status, text = await done
        self.latencies.append(time.perf_counter() - arrived)
        return web.Response(status=status, text=text)

    async def consume(self) -> None:
        # two batches in flight: the workers verify one while this process answers and stores the other
        in_flight = asyncio.Semaphore(BATCHES_IN_FLIGHT)
        tasks = set()
        while True:
            items = [await self.queue.get()]
            await asyncio.sleep(LINGER_S)           # let a burst of deliveries gather into one batch
            while len(items) < READ_CHUNK * max(1, self.reader.workers) and not self.queue.empty():
                items.append(self.queue.get_nowait())
            await in_flight.acquire()
            task = asyncio.create_task(self._batch(items))
            tasks.add(task)
            task.add_done_callback(lambda done: (tasks.discard(done), in_flight.release()))

    async def _batch(self, items: list) -> None:
        loop = asyncio.get_running_loop()
        try:
            # split every batch over all the workers, however small it is
            chunk = max(1, -(-len(items) // max(1, self.reader.workers)))
            t = time.perf_counter()
            messages = await loop.run_in_executor(None, self.reader.read, [b for b, _ in items], chunk)
            self.times["verify+parse"] += time.perf_counter() - t
            t = time.perf_counter()
            rows, answers = [], []
            for message in messages:
                if isinstance(message, AltHanError):
                    self.refused += 1
                    answers.append((400, str(message)))
                    continue
                device, key = (message.outcomes() or [("", "")])[0]
                rows.append((str(message.response_id), device, key, message.response_datetime))
                answers.append((200, "stored"))
            before = self.db.total_changes
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR IGNORE INTO received VALUES (?, ?, ?, ?)", rows)
            self.db.execute("COMMIT")
            added = self.db.total_changes - before
            self.stored += added
            self.duplicates += len(rows) - added
            self.times["store"] += time.perf_counter() - t
            for (_, done), answer in zip(items, answers):
                done.set_result(answer)
        except BaseException as exc:        # a failed batch answers 500: the stand-in delivers it again
            for _, done in items:
                if not done.done():
                    done.set_result((500, f"not stored: {exc!r}"[:300]))
            if not isinstance(exc, Exception):
                raise

    def close(self) -> None:
        self.reader.close()
        self.db.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (Linux /proc; 0 where it cannot be read)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _children(pid: int) -> list[int]:
    """Child processes of ``pid``, whichever of its threads started them."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(c) for c in f.read().split())
    except (OSError, ValueError):
        pass
    return found


def _cpu_by_side(stand_in_pid: int) -> dict[str, float]:
    """CPU seconds of the stand-in's process and its signing workers, and of this process (HTTP listener, store)
    and its verifying workers; empty where /proc is not there."""
    if not os.path.exists(f"/proc/{os.getpid()}/stat"):
        return {}
    mine = [c for c in _children(os.getpid()) if c != stand_in_pid]
    return {"stand-in main": _cpu_seconds(stand_in_pid),
            "stand-in signing": sum(_cpu_seconds(c) for c in _children(stand_in_pid)),
            "listener main": _cpu_seconds(os.getpid()),
            "listener verifying": sum(_cpu_seconds(c) for c in mine)}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _status(session, url) -> dict:
    async with session.get(url + "/status") as r:
        return await r.json()


async def run_load(config: LoadConfig, progress=None) -> LoadReport:
    if config.batch < 1 or config.batch > 50_000:
        raise ParameterError("batch: 1 to 50,000 devices per SRV 11.4")
    with tempfile.TemporaryDirectory(dir=config.workdir) as tmp:
        tmp = Path(tmp)
        fleet = generate_fleet(config.installations, seed=config.seed)
        fleet.write(tmp / "fleet.parquet")
        running = {int(v) for v in fleet.column("firmware_version")} - {config.version}
        plan = CampaignPlan(name="load", target_version=config.version, image_size=len(config.image),
                            upgrade_paths=tuple((v, config.version) for v in sorted(running)))
        devices = list(np.asarray(fleet.column("device_id"))[target(plan, fleet).eligible])
        (tmp / "plan.json").write_text(plan.to_json())

        listener = Listener(TrustStore.from_directory(config.certs), [config.dsp_id], tmp / "received.sqlite",
                            config.workers)
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/duis", listener.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        user_port, dcc_port = _free_port(), _free_port()
        await web.TCPSite(runner, "127.0.0.1", user_port).start()
        consumer = asyncio.create_task(listener.consume())
        stand_in = subprocess.Popen(
            [sys.executable, "-m", "althan_ota", "dcc", "serve", "--fleet", str(tmp / "fleet.parquet"),
             "--certs", str(config.certs), "--state", str(tmp / "dcc.sqlite"), "--key", str(config.dsp_key),
             "--cert", str(config.dsp_cert), "--dsp-id", config.dsp_id, "--plan", str(tmp / "plan.json"),
             "--seed", str(config.seed), "--port", str(dcc_port), "--sign-workers", str(config.sign_workers),
             "--deliver-to", f"http://127.0.0.1:{user_port}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = await asyncio.get_running_loop().run_in_executor(None, stand_in.stdout.readline)
            if "listening" not in line:
                raise ParameterError(f"the DCC stand-in did not start: {stand_in.stderr.read()[-2000:]}")
            dcc_url = f"http://127.0.0.1:{dcc_port}"
            signer = Signer(config.user_key, config.user_cert)
            times = {"sign": 0.0, "send 11.4": 0.0}
            cpu_before = _cpu_by_side(stand_in.pid)
            start = time.perf_counter()
            n_requests = 0
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
                for counter, i in enumerate(range(0, len(devices), config.batch), start=1):
                    t = time.perf_counter()
                    body = signer.sign(rq.update_ppmid_firmware(config.image, devices[i:i + config.batch],
                                                                user_id=config.user_id, dsp_id=config.dsp_id,
                                                                counter=counter))
                    times["sign"] += time.perf_counter() - t
                    t = time.perf_counter()
                    headers = {"Content-Type": "application/xml", EMULATED_TIME_HEADER: "0"}
                    async with session.post(dcc_url + "/duis", data=body, headers=headers) as r:
                        reply = await r.read()
                        if r.status != 200 or b">I0<" not in reply:
                            raise ParameterError(f"the stand-in refused 11.4 #{counter}: {r.headers}")
                    times["send 11.4"] += time.perf_counter() - t
                    n_requests += 1
                request_s = time.perf_counter() - start
                last, still = -1, time.monotonic()
                while True:
                    status = await _status(session, dcc_url)
                    if progress is not None:
                        progress(status["delivered"], status["delivered"] + status["pending"])
                    if status["pending"] == 0:
                        break
                    if status["delivered"] != last:
                        last, still = status["delivered"], time.monotonic()
                    elif time.monotonic() - still > STALL_S:
                        break           # reported as lost
                    await asyncio.sleep(0.25)
            wall = time.perf_counter() - start
            cpu_after = _cpu_by_side(stand_in.pid)
        finally:
            stand_in.terminate()
            stand_in.wait(30)
            consumer.cancel()
            await runner.cleanup()
            listener.close()
        lat = np.asarray(listener.latencies) * 1000
        times.update(listener.times)
        return LoadReport(devices=len(devices), requests=n_requests,
                          scheduled=status["delivered"] + status["pending"], received=listener.stored,
                          duplicates=listener.duplicates, refused=listener.refused, wall_s=wall,
                          request_s=request_s,
                          latency_ms={p: float(np.percentile(lat, q)) if len(lat) else 0.0
                                      for p, q in (("p50", 50), ("p95", 95), ("p99", 99))},
                          breakdown_s=times,
                          cpu_s={k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after})
