"""The DCC stand-in's HTTP side: ``POST /duis`` takes one signed DUIS request and answers it synchronously
(signed). An accepted SRV 11.4 is emulated and its alerts committed (state.py) before the acknowledgement
goes out; a background task then signs them on the signing workers, earliest first, and another delivers
each signed alert to the user's ``POST {deliver_to}/duis`` at its emulated time, retrying with capped
exponential back-off until a 2xx. So the acknowledgement does not wait for signing, and signing, delivery
and the user's verification run at once.

Time: in deterministic mode a request's emulated time is its ``X-Althan-Emulated-Time`` header (seconds from
the campaign start; 0 without one) and messages go out as fast as the user takes them, earliest first; with
``time_scale`` S the stand-in's own clock runs, emulated seconds = wall seconds since its first start x S, and
a message goes when its time comes, as a DCC's would: no emulated-time header, its ResponseDateTime the real
time at which the clock showed its emulated time (so a user dates it on its own clock, ``live.clock``).
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from .._tls import TlsConfig
from ..campaign.plan import CampaignPlan
from ..duis import RequestId, Signer, TrustStore, Verifier, parse_bytes
from ..duis import records as rec
from ..duis.bulk import BulkSigner
from ..duis.identifiers import eui
from ..duis.names import sr
from ..duis.parse import parse_tree
from ..duis.responses import InventoryEntry, read_inventory_response, service_response
from ..emulate import EmulationParams
from ..errors import DuisError
from ..fleet import Fleet
from ..fleet.schema import JOINED_AS_CAD, PPMID, HUB_SIDE, METER_SIDE
from . import messages as msg
from .delivery import PipelinedClient
from .emulated import Emulation, FleetIndex
from .state import StandInState

EMULATED_TIME_HEADER = "X-Althan-Emulated-Time"
DELIVERY_BATCH = 512            # messages taken from the outbox at a time
SIGN_CHUNK = 256                # alerts signed at a time per signing worker
BACKOFF_FIRST_S, BACKOFF_CAP_S = 0.2, 30.0


@dataclass
class StandInConfig:
    fleet: Fleet
    trust: TrustStore
    key: bytes
    certificate: bytes
    dsp_id: str
    state_path: Path
    deliver_to: str | None = None
    seed: int = 0
    plan: CampaignPlan | None = None        # None: a default plan for the 11.4's image
    emulation: EmulationParams = field(default_factory=EmulationParams)
    schema: object | None = None            # a DuisSchema, or None: no schema validation
    time_scale: float | None = None         # None: deterministic
    sign_workers: int = 0                   # BulkSigner processes for alerts (0: in this process)
    connections: int = 64                   # to the user's endpoint, each with deliveries pipelined: a receiver
    # that answers each delivery once stored works on as many at once as there are connections
    tls: TlsConfig = field(default_factory=TlsConfig)   # HTTPS for requests, and to an https:// deliver_to


class Refused(Exception):
    """A request the DCC answers with an E code."""

    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


class StandIn:
    def __init__(self, config: StandInConfig):
        self.config = config
        self.index = FleetIndex(config.fleet)
        self.state = StandInState(config.state_path)
        self.verifier = Verifier(config.trust)
        self.signer = Signer(config.key, config.certificate)
        self.bulk = BulkSigner(config.key, config.certificate, workers=config.sign_workers)
        self.origin = self.state.wall_origin()
        # deterministic: emulated seconds after 2026-01-01; wall clock: the real time the clock shows t at
        self._stamping = ((msg.EPOCH, 1.0) if config.time_scale is None else
                          (datetime.fromtimestamp(self.origin, timezone.utc), config.time_scale))
        self._accepting = asyncio.Lock()
        self._wake = asyncio.Event()            # the outbox has something new
        self._signing = asyncio.Event()         # a job has alerts to sign
        self._stopping = False
        self.stats = {"requests": 0, "refused": 0, "delivered": 0, "delivery_failures": 0}

    # -- time
    def when(self, t: float):
        """Emulated second ``t`` as the timestamp of what the stand-in sends (messages.when)."""
        return msg.when(t, *self._stamping)

    def emulated_now(self) -> float:
        if self.config.time_scale is None:
            return math.inf
        return (time.time() - self.origin) * self.config.time_scale

    def request_time(self, request: web.Request) -> float:
        if self.config.time_scale is not None:
            return self.emulated_now()
        text = request.headers.get(EMULATED_TIME_HEADER, "0")
        try:
            value = float(text)
        except ValueError:
            raise web.HTTPBadRequest(text=f"{EMULATED_TIME_HEADER}: {text!r} is not a number of seconds") from None
        if not math.isfinite(value) or value < 0:
            raise web.HTTPBadRequest(text=f"{EMULATED_TIME_HEADER}: {text!r} is not a time >= 0")
        return value

    # -- requests
    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        t0 = self.request_time(request)
        if not body:
            raise web.HTTPBadRequest(text="empty body: expected one signed DUIS request")
        try:
            root = parse_bytes(body)
        except DuisError as exc:
            raise web.HTTPBadRequest(text=f"not a DUIS message: {exc}") from None
        request_id = _request_id(root)
        self.stats["requests"] += 1
        loop = asyncio.get_running_loop()
        try:
            async with self._accepting:
                reply = await self._answer(root, request_id, t0, loop)
        except Refused as exc:
            self.stats["refused"] += 1
            srv = root.findtext(f"{sr('Header')}/{sr('ServiceReference')}") or "8.2"
            reply = service_response(request_id, srv.strip(), exc.code, self.when(t0))
            return _xml(self.signer.sign(reply), reason=exc.reason)
        return _xml(await loop.run_in_executor(None, self.signer.sign, reply))

    async def _answer(self, root, request_id: RequestId, t0: float, loop):
        if self.config.schema is not None:
            try:
                self.config.schema.validate(root)
            except DuisError as exc:
                raise Refused(msg.E_SCHEMA, str(exc)) from None
        try:
            signer = await loop.run_in_executor(None, self.verifier.verify, root)
        except DuisError as exc:
            raise Refused(msg.E_SIGNATURE, str(exc)) from None
        try:
            message = parse_tree(root, signer)
        except DuisError as exc:
            raise Refused(msg.E_SCHEMA, str(exc)) from None
        if message.kind != "request":
            raise Refused(msg.E_SCHEMA, f"a {message.kind} is not a request")
        user = request_id.originator
        last = self.state.last_counter(user)
        if last is not None and request_id.counter <= last:
            raise Refused(msg.E_COUNTER, f"originator counter {request_id.counter} is not above {user}'s last, {last}")
        record = message.records[0]
        if isinstance(record, rec.UpdatePpmidFirmwareRequest):
            return await self._update_firmware(request_id, record, t0, loop)
        if isinstance(record, rec.ReadInventoryRequest):
            return self._read_inventory(request_id, record, t0)
        if isinstance(record, rec.DevicePrenotificationRequest):
            self._check_dsp_target(request_id)
            self.state.accept(user, request_id.counter)
            return service_response(request_id, "12.2", "I99", self.when(t0))
        raise Refused(msg.E_SERVICE, f"SRV {message.service_reference_variant} is not offered by this stand-in")

    def _check_dsp_target(self, request_id: RequestId) -> None:
        if eui(request_id.target) != eui(self.config.dsp_id):
            raise Refused(msg.E_WRONG_TARGET, f"a non-device request must be sent to the DSP "
                                              f"{self.config.dsp_id}, not {request_id.target}")

    async def _update_firmware(self, request_id: RequestId, record, t0: float, loop):
        self._check_dsp_target(request_id)
        warnings: dict[str, list[str]] = {}
        accepted = []
        for device in dict.fromkeys(eui(d) for d in record.device_ids):
            problem = self.index.problem(device)
            if problem is None:
                accepted.append(device)
            else:
                warnings.setdefault(problem, []).append(device)
        plan = self.config.plan or CampaignPlan(name="dcc", target_version=record.firmware_version,
                                                image_size=len(record.image))
        before = self.state.attempts(accepted)
        emulation = Emulation(self.index, plan, self.config.emulation, self.config.seed)
        # the unit key rule needs to know whether each hub-side bridge was named before: read here, in the
        # event loop's thread, the only one that touches the state file
        hubs = {self.index.device_ids[h] for h in self.index.hub_of[[self.index.row_of[d] for d in accepted]]}
        hub_before = self.state.attempts(hubs)
        runs = await loop.run_in_executor(None, emulation.run, {d: before[d] + 1 for d in accepted}, t0,
                                          lambda ids: {i: hub_before[i] for i in ids})
        new_version = record.firmware_version
        alerts, versions = [], []
        for run in runs:
            old = int(self.index.version[run.row])
            ch = self.index.ch_id[run.row]
            alerts.extend(msg.device_alerts(run, t0, request_id, ch, old, new_version))
            if run.outcome == "completed":
                versions.append((run.device_id, new_version, t0 + run.times["t_activation"]))
        # earliest first, so that the chunks signed first are the ones due first
        alerts.sort(key=lambda alert: alert[0])
        # the alerts are signed after the acknowledgement, off the request path (sign_forever); what they will
        # be, and their ResponseIDs, are committed with the request
        self.state.accept(request_id.originator, request_id.counter, accepted, versions, alerts)
        self._signing.set()
        return service_response(request_id, "11.4", "I0", self.when(t0), warnings=warnings)

    def _read_inventory(self, request_id: RequestId, record, t0: float):
        self._check_dsp_target(request_id)
        if record.selector != "DeviceID":
            raise Refused(msg.E_SERVICE, f"8.2 by {record.selector} is not offered; ask by DeviceID")
        device = eui(record.value)
        index = self.index
        row = index.row_of.get(device)
        if row is None:
            raise Refused(msg.E_NO_DEVICE, f"device {device} is not in the inventory")
        if index.variant[row] not in (PPMID, HUB_SIDE, METER_SIDE):
            raise Refused(msg.E_DEVICE_TYPE, f"device {device} is not a PPMID")
        if index.join_mode[row] == JOINED_AS_CAD:
            raise Refused(msg.E_DEVICE_STATUS, f"device {device} joined as a CAD")
        if index.status[row] not in ("Commissioned", "InstalledNotCommissioned"):
            raise Refused(msg.E_DEVICE_STATUS, f"device {device} is {index.status[row]}")
        version = self.state.version(device, t0)
        entry = InventoryEntry(device_id=device, device_type="PPMID", manufacturer=str(index.manufacturer[row]),
                               model=str(index.model[row]), device_status=str(index.status[row]),
                               firmware_version=int(index.version[row]) if version is None else version)
        self.state.accept(request_id.originator, request_id.counter)
        return read_inventory_response(request_id, [entry], self.when(t0))

    # -- signing
    async def sign_forever(self) -> None:
        """Sign the accepted 11.4s' alerts, oldest job first, a chunk per worker at a time; each chunk goes to
        the outbox (and is then delivered) as soon as it is signed."""
        loop = asyncio.get_running_loop()
        step = max(1, self.bulk.workers) * SIGN_CHUNK
        while not self._stopping:
            job = self.state.next_job()
            if job is None:
                self._signing.clear()
                await self._signing.wait()
                continue
            job_id, user, first, done, alerts = job
            while done < len(alerts) and not self._stopping:
                part = alerts[done:done + step]
                jobs = [(msg.alert_text, dict(kind=kind, fields=fields, t=t, dsp_id=self.config.dsp_id, user_id=user,
                                         counter=first + done + i, epoch=self._stamping[0],
                                         time_scale=self._stamping[1]))
                        for i, (t, kind, fields) in enumerate(part)]
                bodies = await loop.run_in_executor(None, self.bulk.sign, jobs)
                rows = [(str(RequestId.make(self.config.dsp_id, user, first + done + i)), t, body)
                        for i, ((t, _, _), body) in enumerate(zip(part, bodies))]
                done += len(part)
                self.state.signed(job_id, done, rows, finished=done >= len(alerts))
                self._wake.set()

    # -- delivery
    async def deliver_forever(self) -> None:
        if self.config.deliver_to is None:
            return
        client = PipelinedClient(self.config.deliver_to.rstrip("/") + "/duis", connections=self.config.connections,
                                 ssl_context=self.config.tls.client_context())
        try:
            while not self._stopping:
                batch = self.state.due(self.emulated_now(), time.time(), DELIVERY_BATCH)
                if not batch:
                    await self._sleep_until_due()
                    continue
                results = await client.post_all([(body, self._headers(message_id, due))
                                                 for message_id, due, body, _ in batch])
                done = [row[0] for row, ok in zip(batch, results) if ok]
                again = [(row[0], time.time() + _backoff(row[3])) for row, ok in zip(batch, results) if not ok]
                self.state.delivered(done)
                self.state.failed(again)
                self.stats["delivered"] += len(done)
                self.stats["delivery_failures"] += len(again)
        finally:
            await client.close()

    def _headers(self, message_id: str, due: float) -> dict[str, str]:
        headers = {"X-Althan-Message-ID": message_id}
        if self.config.time_scale is None:
            # deterministic mode only: on the wall clock the stand-in is dated as a DCC is, by ResponseDateTime
            headers[EMULATED_TIME_HEADER] = repr(due)
        return headers

    async def _sleep_until_due(self) -> None:
        nxt = self.state.next_due()
        wait = 1.0
        if nxt is not None:
            # nothing is both due and out of its back-off: wake when the earliest message comes due (on the
            # wall clock) or the earliest back-off ends, whichever is first (early is harmless: due() decides)
            due, backoff_end = nxt
            if self.config.time_scale is not None:
                wait = max(0.0, (due - self.emulated_now()) / self.config.time_scale)
            if backoff_end > 0:
                wait = min(wait, max(0.0, backoff_end - time.time()))
            wait = min(max(wait, 0.01), 1.0)
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), wait)
        except asyncio.TimeoutError:
            pass

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._signing.set()
        self.bulk.close()
        self.state.close()


def _backoff(tries: int) -> float:
    return min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2 ** tries)


def _request_id(root) -> RequestId:
    text = root.findtext(f"{sr('Header')}/{sr('RequestID')}")
    try:
        return RequestId.parse(text)
    except DuisError as exc:
        raise web.HTTPBadRequest(text=f"no answerable RequestID: {exc}") from None


def _xml(body: bytes, reason: str | None = None) -> web.Response:
    headers = {"X-Althan-Refused": reason[:500].replace("\n", " ")} if reason else None
    return web.Response(body=body, content_type="application/xml", headers=headers)


def make_app(stand_in: StandIn) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/duis", stand_in.handle)
    app.router.add_get("/status", lambda request: web.json_response({**stand_in.stats, **stand_in.state.counts()}))

    async def start_delivery(app):
        app["signing"] = asyncio.create_task(stand_in.sign_forever())
        app["delivery"] = asyncio.create_task(stand_in.deliver_forever())

    async def stop_delivery(app):
        stand_in._stopping = True
        stand_in._wake.set()
        stand_in._signing.set()
        for name in ("signing", "delivery"):
            app[name].cancel()
            try:
                await app[name]
            except asyncio.CancelledError:
                pass

    app.on_startup.append(start_delivery)
    app.on_cleanup.append(stop_delivery)
    return app


async def serve(config: StandInConfig, host: str, port: int, ready=print) -> None:
    """Serve until cancelled (SIGINT / SIGTERM in the command)."""
    stand_in = StandIn(config)
    runner = web.AppRunner(make_app(stand_in), handle_signals=True)
    await runner.setup()
    tls = config.tls
    site = web.TCPSite(runner, host, port, ssl_context=tls.server_context() if tls.serves else None)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    ready(f"DCC stand-in listening on {'https' if tls.serves else 'http'}://{host}:{bound}")
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        stand_in.close()
