"""A small DCC peer for the live executor's tests: a real aiohttp server process on 127.0.0.1 that plays the
DCC's side of a PPMID firmware campaign, deterministically. It is a test fixture, not the DCC stand-in
(``althan-ota dcc serve``).

It runs the campaign on the emulator first (same fleet, plan and seed) and keeps, per device and attempt,
what happened and when (relative to the request). Each new SRV 11.4 (a RequestID it has not seen) starts the
next attempt of the devices it names; the peer acknowledges it (I0, signed with the DSP's key) and delivers,
signed and at the request's emulated time plus the emulator's offsets, the alerts of 11.4 in DUIS: CSP
FirmwareDeliveryStatus, the Comms Hub's FirmwareTransferAlert, the PPMID's PPMIDFirmwareUpgradeAlert. An SRV
8.2 is answered with the version the device runs at that point. Deliveries are retried with back-off until the
listener answers 2xx, as the DCC does. A repeated RequestID is answered again (or, with
``--refuse-repeats``, refused with E41) and starts nothing.

``GET /stats`` gives, per device, the distinct 11.4 RequestIDs that named it, and the duplicates seen.

    python -m althan_ota.testing.dcc_peer --fleet F --plan PLAN.json --seed S --deliver-to URL \\
        --dsp-key K --dsp-cert C --certs DIR --port-file FILE [--emulation JSON] [--shuffle]
        [--refuse-repeats]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
from collections import defaultdict
from pathlib import Path

import aiohttp
from aiohttp import web

from ..campaign import CampaignPlan, CampaignStore, create_campaign, run_campaign
from ..campaign.emulation import dataclass_from_dict
from ..campaign.outcomes import Reason
from ..campaign.states import State
from ..duis import RequestId, Signer, TrustStore, Verifier, read_message
from ..duis import responses as rs
from ..duis.responses import InventoryEntry
from ..emulate import EmulationParams
from ..fleet import read_fleet
from ..live.options import EMULATED_TIME_HEADER

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
CH_ID = "00-DB-12-34-56-78-FF-00"


def reference_script(fleet_path: Path, plan: CampaignPlan, seed: int, emulation: EmulationParams | None) -> dict:
    """device -> attempt -> [(seconds after the request, state, reason)], from the emulator's run."""
    fleet = read_fleet(fleet_path)
    with CampaignStore(":memory:") as store:
        cid = create_campaign(store, plan, fleet, fleet_path=str(fleet_path), seed=seed, emulation=emulation,
                              campaign_id="reference")
        run_campaign(store, cid, fleet=fleet, n_threads=1)
        events = store.table("events", cid).to_pylist()
    script: dict = defaultdict(lambda: defaultdict(list))
    start: dict = {}
    for e in sorted(events, key=lambda e: (e["device_id"], e["attempt"], e["t"], e["state"])):
        if e["attempt"] < 1:
            continue
        key = (e["device_id"], e["attempt"])
        if e["state"] == State.REQUESTED:
            start[key] = e["t"]
            continue
        script[e["device_id"]][e["attempt"]].append((e["t"] - start[key], State(e["state"]), Reason(e["reason"])))
    versions = dict(zip(fleet.table["device_id"].to_pylist(), fleet.table["firmware_version"].to_pylist()))
    return {"script": script, "versions": versions, "target": plan.target_version}


class Peer:
    def __init__(self, args):
        emulation = None if args.emulation is None else \
            dataclass_from_dict(EmulationParams, json.loads(args.emulation.read_text()))
        self.reference = reference_script(args.fleet, CampaignPlan.from_json(args.plan.read_text()), args.seed,
                                          emulation)
        self.signer = Signer(args.dsp_key, args.dsp_cert)
        self.dsp_id = "90-B3-D5-1F-30-00-00-02"
        self.verifier = Verifier(TrustStore.from_directory(args.certs))
        self.deliver_to = args.deliver_to
        self.shuffle = args.shuffle
        self.refuse_repeats = args.refuse_repeats
        self.answers: dict[str, tuple[bytes, str]] = {}        # RequestID -> (answer, emulated time)
        self.attempt: dict[str, int] = defaultdict(int)
        self.started: dict[str, float] = {}                     # device -> its current attempt's request time
        self.requests_naming: dict[str, list[str]] = defaultdict(list)
        self.duplicates = 0
        self.counter = 0
        self.queue: asyncio.Queue = asyncio.Queue()

    def _next_counter(self) -> int:
        self.counter += 1
        return self.counter

    async def duis(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            message = read_message(body, self.verifier)
        except Exception as exc:        # noqa: BLE001 - a peer answers garbage with 400, as the DCC does
            return web.Response(status=400, text=str(exc))
        request_id = str(message.request_id)
        if request_id in self.answers:
            self.duplicates += 1
            answer, when = self.answers[request_id]
            if self.refuse_repeats:     # as a DCC that refuses an originator counter it has seen
                answer = self.signer.sign(rs.service_response(message.request_id, message.service_reference_variant,
                                                              "E41", EPOCH))
            return web.Response(body=answer, headers={EMULATED_TIME_HEADER: when})
        t = float(request.headers[EMULATED_TIME_HEADER])
        record = message.records[0]
        if message.service_reference_variant == "11.4":
            answer, when = self._update(message.request_id, record.device_ids, t), t
        else:
            answer, when = self._read_inventory(message.request_id, record.device_ids[0], t)
        self.answers[request_id] = (answer, repr(when))
        return web.Response(body=answer, headers={EMULATED_TIME_HEADER: repr(when)})

    def _update(self, request_id: RequestId, devices, t: float) -> bytes:
        out = []
        for device in devices:
            self.requests_naming[device].append(str(request_id))
            self.attempt[device] += 1
            self.started[device] = t
            steps = self.reference["script"][device][self.attempt[device]]
            failed_activation = any(state == State.ACTIVATION_FAILED for _, state, _ in steps)
            for offset, state, reason in steps:
                if state == State.ACTIVATED and failed_activation:
                    continue        # the PPMID's one alert says ActivationFailure
                alert = self._alert(request_id, device, state, reason)
                if alert is not None:
                    out.append((t + offset, alert))
        if self.shuffle:
            random.Random(len(self.answers)).shuffle(out)
        for when, alert in out:
            root = rs.dcc_alert("N42", alert, EPOCH + dt.timedelta(seconds=when), dsp_id=self.dsp_id,
                                user_id=request_id.originator, counter=self._next_counter())
            self.queue.put_nowait((self.signer.sign(root), when))
        return self.signer.sign(rs.service_response(request_id, "11.4", "I0", EPOCH + dt.timedelta(seconds=t)))

    def _alert(self, request_id, device, state, reason):
        version = self.reference["target"]
        if state == State.IMAGE_AT_CH or (state == State.TRANSFER_FAILED and reason == Reason.WAN_FAILURE):
            return rs.csp_firmware_delivery_status(request_id, CH_ID, device, version, EPOCH,
                                                   delivered=state == State.IMAGE_AT_CH)
        results = {State.DOWNLOADED: "FileTransferSuccess", State.TRANSFER_FAILED: "FileTransferFailure",
                   State.HASH_MISMATCH: "FirmwareImageDiscarded"}
        if state in results:
            return rs.comms_hub_firmware_transfer(CH_ID, "8F84", device, version, results[state],
                                                  update_request_id=request_id)
        if state in (State.ACTIVATED, State.ACTIVATION_FAILED):
            return rs.ppmid_firmware_activation(device, "8F85", version, state == State.ACTIVATED)
        return None     # downloading has no alert; verified is read back; a timeout is silence

    def _read_inventory(self, request_id: RequestId, device: str, t: float) -> tuple[bytes, float]:
        steps = self.reference["script"][device][self.attempt[device]]
        verified = [offset for offset, state, _ in steps if state == State.VERIFIED]
        version = self.reference["target"] if verified else self.reference["versions"][device]
        when = self.started[device] + verified[0] if verified else t
        root = rs.read_inventory_response(request_id, [InventoryEntry(device, "PPMID", "ALTHAN", "BRIDGE",
                                                                      firmware_version=version)],
                                          EPOCH + dt.timedelta(seconds=when))
        return self.signer.sign(root), when

    async def deliver(self) -> None:
        async with aiohttp.ClientSession() as client:
            while True:
                body, when = await self.queue.get()
                wait = 0.02
                while True:
                    try:
                        async with client.post(self.deliver_to, data=body,
                                               headers={EMULATED_TIME_HEADER: repr(when)}) as response:
                            await response.read()
                            if response.status < 300:
                                break
                    except (aiohttp.ClientError, asyncio.TimeoutError):
                        pass
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, 0.5)

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response({"requests_naming": self.requests_naming, "duplicates": self.duplicates,
                                  "pending_deliveries": self.queue.qsize()})


async def _main(args) -> None:
    peer = Peer(args)
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/duis", peer.duis)
    app.router.add_get("/stats", peer.stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    port = runner.addresses[0][1]
    asyncio.get_running_loop().create_task(peer.deliver())
    tmp = args.port_file.with_suffix(".tmp")
    tmp.write_text(str(port))
    tmp.rename(args.port_file)
    await asyncio.Event().wait()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="dcc_peer")
    for name in ("fleet", "plan", "dsp-key", "dsp-cert", "certs", "port-file"):
        p.add_argument(f"--{name}", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--emulation", type=Path, help="emulation parameters as JSON (emulate.params.describe)")
    p.add_argument("--deliver-to", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--shuffle", action="store_true", help="deliver each request's alerts in a random order")
    p.add_argument("--refuse-repeats", action="store_true",
                   help="answer a repeated RequestID with E41 (counter not above the last) instead of its answer")
    asyncio.run(_main(p.parse_args(argv)))


if __name__ == "__main__":
    main()
