"""The DCC executor: one wave of a campaign carried out over DUIS.

Per attempt, the wave's pending devices are requested at their request-book times: the devices that share a
time go in one SRV 11.4 (up to the schema's 50,000), each request journalled (RequestID, counter) before it
is sent, its synchronous acknowledgement journalled when it comes. The DCC's alerts arrive at the listener
and are stored; a device is then read from its stored messages alone, in emulated time: the messages at or
after its request and within the plan's timeout, ordered by time, up to the first that ends it (verified,
or a failure with its reason, from the outcome table). A device that activated is read back with SRV 8.2. A
device that hears nothing conclusive within the quiet period fails with ``duis_no_response`` at its request
time plus the plan's timeout. Retries follow the emulator's rule (back-off, pairs together, the book's
slots), so a deterministic DCC gives the emulator's states and reasons.

Resuming after a kill: a request already journalled for the same (wave, attempt, time, devices) is not
built anew; if its acknowledgement was stored it is not sent again, otherwise it is re-sent with the SAME
RequestID and counter: a DCC answers the duplicate (or refuses the counter it has seen, which is taken as the
acknowledgement that it has the request), so it never sees two 11.4s for one attempt. An SRV 8.2 read-back
that may not have gone out is asked again under a new counter (reads are idempotent). Messages already
stored are read from the store, never applied twice.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import heapq
import time
from collections import defaultdict
from dataclasses import dataclass, field

import aiohttp
import numpy as np
from aiohttp import web

from ..campaign.emulation import WaveOutcome
from ..campaign.executors import WaveJob
from ..campaign.journal import Journal
from ..campaign.outcomes import FINAL, outcome
from ..campaign.slots import retry_times
from ..campaign.states import State
from ..duis import RequestId, Signer, TrustStore, Verifier, load_schema, read_message
from ..duis import requests as rq
from ..duis.names import MAX_DEVICE_IDS
from ..duis.trust import entity_id_of
from ..errors import CampaignError, DuisError, ParameterError
from .clock import WallClock, response_datetime
from .listener import PATH, make_app
from .options import EMULATED_TIME_HEADER, LiveOptions

READ_AGAIN = 5          # times an 8.2 whose first POST failed is asked again under a new counter
_SUMS = ("exchanges", "exchange_retries", "airtime_han", "airtime_bridge", "dc_wait")


@dataclass
class _Heard:
    """What a device's stored messages say about one attempt."""

    stages: list[tuple[float, State]] = field(default_factory=list)
    final: tuple[float, str] | None = None
    activated_at: float | None = None
    sent_at: float | None = None        # wall-clock mode: when its 11.4 went out (the attempt's start)


class DccExecutor:
    def __init__(self, options: LiveOptions):
        self.options = options
        self.signer = Signer(options.key, options.cert)
        self.user_id = entity_id_of(self.signer.certificate)
        if self.user_id is None:
            raise ParameterError(f"the certificate {options.cert} names no entity ID (the DUIS user ID)")
        self.verifier = Verifier(TrustStore.from_directory(options.certs), expected_signers=[options.dsp_id])
        self.schema = load_schema(options.schema) if options.schema is not None else None
        try:
            self.image = options.firmware.read_bytes()
        except OSError as exc:
            raise ParameterError(f"cannot read the firmware image {options.firmware}: {exc.strerror}") from None
        self.image_base64 = base64.b64encode(self.image).decode("ascii")

    # -- the run ---------------------------------------------------------------------------------------
    def session(self, store, campaign_id: str):
        return _Session(self, store, campaign_id)

    def run_wave(self, job: WaveJob) -> WaveOutcome:
        return self.loop.run_until_complete(self._wave(job))

    async def _wave(self, job: WaveJob) -> WaveOutcome:
        if job.places is not None and job.places.cap is not None:
            raise CampaignError("the DCC executor does not hold requests for the plan's building_concurrency yet; "
                                "run this plan on the emulator, or without the building cap")
        plan, waves, lo, hi = job.plan, job.waves, job.lo, job.hi
        n = hi - lo
        rows = np.stack([waves.hub_row[lo:hi], waves.meter_row[lo:hi]], axis=1)
        out = WaveOutcome(target_version=plan.target_version, rows=rows,
                          state=np.full((n, 2), int(State.TARGETED), np.uint8), reason=np.zeros((n, 2), np.uint8),
                          attempts=np.zeros((n, 2), np.int32), t_final=np.full((n, 2), np.nan),
                          sums={k: np.zeros((n, 2)) for k in _SUMS}, download_s=np.zeros((n, 2)))
        device_ids = np.asarray(job.fleet.table["device_id"].to_pylist(), dtype=object)
        due = np.full((n, 2), np.nan)
        pending = rows >= 0
        attempt = 1
        while pending.any():
            units = np.flatnonzero(pending.any(axis=1))
            if attempt == 1:
                start = job.release[units]
            else:
                start = retry_times(job.book, pending[units], due[units], waves.quota_codes(lo, hi, units))
            asked = [(int(u), side, float(t0), str(device_ids[rows[u, side]]))
                     for u, t0 in zip(units.tolist(), start.tolist()) for side in (0, 1) if pending[u, side]]
            heard = await self._attempt(job, attempt, asked)
            for (u, side, t0, device), result in zip(asked, heard):
                self._record(out, job, u, side, t0, result, attempt, pending, due)
            attempt += 1
        return out

    async def _attempt(self, job: WaveJob, attempt: int, asked: list) -> list[_Heard]:
        by_time: dict[float, list[str]] = defaultdict(list)
        for _, _, t0, device in asked:
            by_time[t0].append(device)
        if self.clock is not None:
            return await self._attempt_on_the_clock(job, attempt, asked, by_time)
        for t0 in sorted(by_time):
            for i in range(0, len(by_time[t0]), MAX_DEVICE_IDS):
                await self._update(job, attempt, t0, by_time[t0][i:i + MAX_DEVICE_IDS])
        results: list[_Heard | None] = [None] * len(asked)
        open_ = set(range(len(asked)))
        index: dict[str, list[int]] = defaultdict(list)
        for i, (_, _, _, device) in enumerate(asked):
            index[device].append(i)
        quiet_since = self.loop.time()
        heard_before = self.heard_count
        self.changed.clear()
        look = sorted(open_)            # first everything, then the devices something was heard of
        while True:
            for i in look:
                _, _, t0, device = asked[i]
                result = self._heard(device, t0, job.plan.device_timeout_s)
                results[i] = result
                if result.final is not None:
                    open_.discard(i)
                elif result.activated_at is not None:
                    await self._read_back(job, attempt, device, result.activated_at)
            if not open_:
                return results
            if self.heard_count != heard_before:
                heard_before, quiet_since = self.heard_count, self.loop.time()
            elif self.loop.time() - quiet_since > self.options.quiet_s:
                return results      # the open ones heard nothing conclusive: they time out
            self.news.clear()
            try:
                await asyncio.wait_for(self.news.wait(), 0.05)
            except asyncio.TimeoutError:
                pass
            changed, self.changed = self.changed, set()
            look = sorted(open_.intersection(i for device in changed for i in index.get(device, ())))

    async def _attempt_on_the_clock(self, job: WaveJob, attempt: int, asked: list,
                                    by_time: dict[float, list[str]]) -> list[_Heard]:
        """Wall-clock mode: each 11.4 is held until the clock reaches its request-book time, while what comes
        back is read (and activated devices read back) as it arrives; a device hears its outcome by the time
        its request went out plus the plan's timeout, on the clock, or times out (``quiet_s`` wall seconds
        later, for deliveries still in flight)."""
        timeout_s, grace_s = job.plan.device_timeout_s, self.options.quiet_s
        index: dict[str, list[int]] = defaultdict(list)
        for i, (_, _, _, device) in enumerate(asked):
            index[device].append(i)
        sent_at: dict[str, float] = {}
        newly_sent: list[int] = []

        async def send_on_time() -> None:
            for t0 in sorted(by_time):
                await asyncio.sleep(self.clock.wait_s(t0))
                for k in range(0, len(by_time[t0]), MAX_DEVICE_IDS):
                    devices = by_time[t0][k:k + MAX_DEVICE_IDS]
                    when = await self._update(job, attempt, t0, devices)
                    for device in devices:
                        sent_at[device] = when
                        newly_sent.extend(index[device])
                    self.news.set()

        results: list[_Heard | None] = [None] * len(asked)
        open_ = set(range(len(asked)))
        deadlines: list[tuple[float, int]] = []         # (wall time, asked index), a heap
        sender = asyncio.create_task(send_on_time())
        try:
            while True:
                changed, self.changed = self.changed, set()
                look = {i for device in changed for i in index.get(device, ())}
                for i in newly_sent:
                    look.add(i)
                    device = asked[i][3]
                    heapq.heappush(deadlines, (self.clock.wall_at(sent_at[device] + timeout_s) + grace_s, i))
                newly_sent.clear()
                for i in sorted(look & open_):
                    _, _, t0, device = asked[i]
                    if device not in sent_at:
                        continue
                    result = results[i] = self._heard(device, t0, timeout_s, sent_at[device])
                    if result.final is not None:
                        open_.discard(i)
                    elif result.activated_at is not None:
                        await self._read_back(job, attempt, device, result.activated_at)
                while deadlines and deadlines[0][0] <= time.time():
                    _, i = heapq.heappop(deadlines)
                    if i in open_:      # heard nothing conclusive in time: it times out
                        _, _, t0, device = asked[i]
                        results[i] = self._heard(device, t0, timeout_s, sent_at[device])
                        open_.discard(i)
                if sender.done():
                    sender.result()     # a request that could not be sent stops the run (resumable)
                    if not open_:
                        return results
                self.news.clear()
                wait = 0.05 if not deadlines else min(0.05, max(0.0, deadlines[0][0] - time.time()))
                try:
                    await asyncio.wait_for(self.news.wait(), wait)
                except asyncio.TimeoutError:
                    pass
        finally:
            if not sender.done():
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender

    def _heard(self, device: str, t0: float, timeout_s: float, sent_at: float | None = None) -> _Heard:
        """What the stored messages say of ``device``'s attempt requested at ``t0`` (book time; ``sent_at``:
        when it actually went out, wall-clock mode), within the plan's timeout of its start."""
        result = _Heard(sent_at=sent_at)
        end = (t0 if sent_at is None else max(t0, sent_at)) + timeout_s
        mine = sorted(((t, key) for t, key in self.messages.get(device, ()) if t0 <= t <= end),
                      key=lambda m: (m[0], int(outcome(m[1]).state or 0)))
        for t, key in mine:
            row = outcome(key)
            if row.state is None or row.state == State.REQUESTED:
                continue        # the acknowledgement: the REQUESTED event is the request's own
            if row.state in FINAL:
                result.final = (t, key)
                break
            result.stages.append((t, row.state))
            if row.state == State.ACTIVATED:
                result.activated_at = t
        return result

    def _record(self, out: WaveOutcome, job: WaveJob, u: int, side: int, t0: float, result: _Heard,
                attempt: int, pending: np.ndarray, due: np.ndarray) -> None:
        plan, slot = job.plan, np.array([2 * u + side])
        requested = outcome("requested")
        start = t0 if result.sent_at is None else max(t0, result.sent_at)     # held requests can go out late
        out.events.append((slot, np.array([start]), requested.state, np.uint8(requested.reason), attempt))
        for t, state in result.stages:
            out.events.append((slot, np.array([t]), state, np.uint8(0), attempt))
        t, key = result.final if result.final is not None else (start + plan.device_timeout_s, "duis_no_response")
        row = outcome(key)
        why = row.reason_on(side)
        out.events.append((slot, np.array([t]), row.state, np.uint8(why), attempt))
        out.state[u, side], out.reason[u, side], out.t_final[u, side] = row.state, why, t
        out.attempts[u, side] = attempt
        stage_at = {state: when for when, state in result.stages}
        if State.IMAGE_AT_CH in stage_at and State.DOWNLOADED in stage_at:
            out.download_s[u, side] += stage_at[State.DOWNLOADED] - stage_at[State.IMAGE_AT_CH]
        again = row.retry is not None and attempt < plan.retry.attempts_for(row.retry)
        pending[u, side] = again
        if again:
            due[u, side] = t + plan.retry.backoff_s * 2 ** (attempt - 1)

    # -- requests --------------------------------------------------------------------------------------
    async def _update(self, job: WaveJob, attempt: int, t0: float, devices: list[str]) -> float:
        def build(counter: int) -> bytes:
            return self.signer.sign(rq.update_ppmid_firmware(
                self.image, devices, user_id=self.user_id, dsp_id=self.options.dsp_id, counter=counter,
                version=job.plan.target_version, image_base64=self.image_base64))

        return await self._request("11.4", job, attempt, t0, devices, build, targets=None)

    async def _read_back(self, job: WaveJob, attempt: int, device: str, t: float) -> None:
        def build(counter: int) -> bytes:
            return self.signer.sign(rq.read_inventory(device, user_id=self.user_id, dsp_id=self.options.dsp_id,
                                                      counter=counter))

        await self._request("8.2", job, attempt, t, [device], build, targets={device: job.plan.target_version})

    async def _request(self, srv: str, job: WaveJob, attempt: int, t: float, devices: list[str], build,
                       targets) -> float:
        """Journal (unless journalled before), send, and journal the DCC's answer (unless it came before).
        Returns when the request went out: ``t`` in deterministic mode, the clock's time in wall-clock mode."""
        ids = ",".join(devices)
        row = self.journal.request_for(srv, job.wave, attempt, t, ids)
        if row is not None and row["response_code"] is not None:
            return t if row["sent_t"] is None else float(row["sent_t"])
        resent = row is not None and srv == "11.4"
        for _ in range(READ_AGAIN):
            if row is None or not resent:
                # a read (8.2) that may not have gone out is asked again under a new counter: reading twice is
                # harmless, and a DCC that refuses a counter it has seen would refuse the old one
                counter = self.store.next_request_counters(self.user_id, 1)[0]
                new_id = str(RequestId.make(self.user_id, self.options.dsp_id, counter))
                if row is None:
                    self.journal.record_request(new_id, counter, srv, job.wave, attempt, t, ids)
                else:
                    self.journal.renumber(row["request_id"], new_id, counter)
                row, request_id = {"request_id": new_id}, new_id
            else:
                counter, request_id = int(row["counter"]), row["request_id"]
            body = build(counter)
            sent = None if self.clock is None else max(t, self.clock.now())
            reply, reply_time, retried = await self._post(body, t)
            if self.clock is not None:
                reply_time = max(sent, self.clock.now())    # a synchronous answer: it came now
            try:
                message = read_message(reply, self.verifier, schema=self.schema, targets=targets,
                                       accept_unsigned_errors=True)
            except DuisError as exc:
                raise CampaignError(f"the DCC's answer to {request_id} does not verify: {exc}") from None
            if not (retried and message.response_code.is_error):
                break
            # the POST was sent again after the connection failed (a DCC restarting): the DCC may have taken the
            # first one and refuse the repeat's counter. An 11.4 then counts as acknowledged (below); a read is
            # asked again under a new counter
            if srv == "11.4":
                resent = True
                break
        found = []
        if resent and message.response_code.is_error:
            # the same 11.4, signed as before, refused now: the DCC has its RequestID already (DCCs refuse a
            # counter that is not above the user's last, and this is our last); it was acknowledged then
            found = [(d, "duis_acknowledged") for d in devices]
        for device, key in [] if found else message.outcomes():
            found.extend((d, key) for d in ([device] if device else devices))
        when = t if reply_time is None else reply_time
        self.journal.record_answer(request_id, message.response_code.code, found, when, sent_t=sent)
        self._heard_now([(d, k, when) for d, k in found])
        return t if sent is None else sent

    async def _post(self, body: bytes, t: float) -> tuple[bytes, float | None, bool]:
        """POST a request to the DCC, retried with back-off while it cannot be reached (a DCC restarting).
        Returns the answer, its emulated time header, and whether the POST had to be sent more than once."""
        url = self.options.dcc_url.rstrip("/") + PATH
        headers = {"Content-Type": "application/xml"}
        if self.clock is None:
            headers[EMULATED_TIME_HEADER] = repr(t)     # deterministic: the DCC stand-in answers at book time
        wait, waited = 0.05, 0.0
        while True:
            try:
                async with self.client.post(url, data=body, headers=headers) as response:
                    text = await response.read()
                    if response.status == 200:
                        return text, _emulated_time(response.headers.get(EMULATED_TIME_HEADER)), waited > 0
                    if response.status < 500:
                        raise CampaignError(f"the DCC at {url} refused a request ({response.status}): "
                                            f"{text[:300].decode('utf-8', 'replace')}")
            except aiohttp.ClientSSLError as exc:
                # a certificate the other side will not accept, or one we do not trust: retrying cannot help
                raise CampaignError(f"TLS with the DCC at {url} failed: {exc}") from None
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError):
                pass
            if waited > self.options.send_timeout_s:
                raise CampaignError(f"the DCC at {url} did not answer for {waited:.0f} s; the campaign stopped "
                                    "and can be resumed (nothing sent is lost)")
            await asyncio.sleep(wait)
            waited += wait
            wait = min(wait * 2, 2.0)

    # -- the listener's side ---------------------------------------------------------------------------
    def receive(self, body: bytes, time_header: str | None) -> bool:
        message = read_message(body, self.verifier, schema=self.schema)
        identity = message.response_id or message.request_id
        if identity is None:
            raise DuisError("Response/Header: neither ResponseID nor RequestID: the message has no identity")
        if self.clock is not None:
            # the DCC's time of the event, on the run's clock (a delivery may be late: retried, or resumed)
            t = self.clock.of_datetime(message.response_datetime) if message.response_datetime else self.clock.now()
        else:
            t = _emulated_time(time_header)
            if t is None:
                t = self._seconds_since_start(message.response_datetime)
        found = [(d, k) for d, k in message.outcomes() if d]
        if not self.journal.store_message(str(identity), found, t):
            return False
        self._heard_now([(d, k, t) for d, k in found])
        return True

    def _heard_now(self, found: list[tuple[str, str, float]]) -> None:
        for device, key, t in found:
            self.messages[device].append((t, key))
            self.changed.add(device)
        self.heard_count += 1
        self.news.set()

    def _seconds_since_start(self, text: str | None) -> float:
        return (response_datetime(text) - self.started_at).total_seconds()


def _emulated_time(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise DuisError(f"{EMULATED_TIME_HEADER}: {text[:40]!r} is not a number of seconds") from None
    if not np.isfinite(value) or value < 0:
        raise DuisError(f"{EMULATED_TIME_HEADER}: {text[:40]!r} is not a time since the campaign start")
    return value


class _Session:
    """The executor's servers and connections while a run goes: its event loop, the listener and the client."""

    def __init__(self, executor: DccExecutor, store, campaign_id: str):
        self.executor, self.store, self.campaign_id = executor, store, campaign_id

    def __enter__(self) -> DccExecutor:
        ex = self.executor
        ex.store, ex.journal = self.store, Journal(self.store, self.campaign_id)
        info = self.store.campaign(self.campaign_id)
        if info["image_sha256"] and hashlib.sha256(ex.image).hexdigest() != info["image_sha256"].lower():
            raise ParameterError(f"the firmware image {ex.options.firmware} is not the campaign's: its SHA-256 "
                                 f"differs from {info['image_sha256']}")
        started = info["started_at"]
        ex.started_at = started if started.tzinfo else started.replace(tzinfo=dt.timezone.utc)
        ex.clock = self._clock()
        ex.messages = defaultdict(list)
        for device, key, t in ex.journal.messages():
            ex.messages[device].append((t, key))
        ex.heard_count = 0
        ex.changed = set()
        ex.loop = asyncio.new_event_loop()
        ex.news = asyncio.Event()
        self.runner = web.AppRunner(make_app(ex.receive, ex.journal.refuse), access_log=None)
        host, port = ex.options.listen
        try:
            ex.loop.run_until_complete(self.runner.setup())
            tls = ex.options.tls
            ex.loop.run_until_complete(web.TCPSite(self.runner, host, port, ssl_context=tls.server_context()
                                                   if tls.serves else None).start())
        except OSError as exc:
            self._close()
            raise CampaignError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        ex.client = ex.loop.run_until_complete(_client(ex.options))
        return ex

    def __exit__(self, *exc) -> None:
        self._close()

    def _clock(self) -> WallClock | None:
        """The run's clock: None in deterministic mode; in wall-clock mode the one the campaign's first live run
        started (kept in the journal), so that a resumed run carries on the same clock."""
        ex, scale = self.executor, self.executor.options.time_scale
        kept = ex.journal.clock()
        if scale is None:
            if kept is not None:
                raise ParameterError(f"campaign {self.campaign_id} runs on the wall clock at --time-scale "
                                     f"{kept[1]:g}: resume it with the same --time-scale")
            return None
        if kept is None:
            if ex.journal.has_requests():
                raise ParameterError(f"campaign {self.campaign_id} was run in deterministic mode (requests dated "
                                     "by the request book): resume it without --time-scale")
            kept = (time.time(), scale)
            ex.journal.start_clock(*kept)
        elif kept[1] != scale:
            raise ParameterError(f"campaign {self.campaign_id} runs on the wall clock at --time-scale {kept[1]:g}, "
                                 f"not {scale:g}: resume it with the same --time-scale")
        return WallClock(*kept)

    def _close(self) -> None:
        ex = self.executor
        if getattr(ex, "client", None) is not None:
            ex.loop.run_until_complete(ex.client.close())
            ex.client = None
        ex.loop.run_until_complete(self.runner.cleanup())
        ex.loop.close()


async def _client(options: LiveOptions) -> aiohttp.ClientSession:
    https = options.dcc_url.lower().startswith("https://")
    connector = aiohttp.TCPConnector(ssl=options.tls.client_context()) if https else None
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), connector=connector)
