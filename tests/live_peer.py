"""Shared set-up of the live executor's tests: a small fleet and plan, the DCC test keys, the peer process
(althan_ota.testing.dcc_peer) started and stopped on 127.0.0.1, and the emulator's result to compare with."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from althan_ota.campaign.runner import _params_json
from althan_ota.emulate import EmulationParams
from althan_ota.emulate.params import OutageParams
from althan_ota.campaign import CampaignPlan, CampaignStore, create_campaign, run_campaign
from althan_ota.fleet import generate_fleet, read_fleet
from althan_ota.image import build_gbcs
from althan_ota.live import LiveOptions

from duis_data import CERTS, DSP_CERT, DSP_KEY, USER_CERT, USER_KEY

NEW = 0x01040000


# failures of every kind the DUIS alerts carry, often enough for a small fleet to show them
EMULATION = EmulationParams(wan_failure_prob=0.15, activation_failure_prob=0.15, outages=OutageParams.none())


def plan(fleet) -> CampaignPlan:
    versions = sorted(set(fleet.table["firmware_version"].to_pylist()) - {NEW})
    return CampaignPlan(name="live", target_version=NEW, image_size=24_000,
                        upgrade_paths=tuple((v, NEW) for v in versions), canary_installations=5, wave_growth=3.0,
                        max_wave_installations=40, requests_per_day=400, pause_failure_rate=1.0,
                        abort_failure_rate=1.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Setup:
    def __init__(self, tmp: Path, installations: int = 60, seed: int = 4,
                 emulation: EmulationParams | None = EMULATION):
        self.tmp, self.seed, self.emulation = tmp, seed, emulation
        self.fleet_path = tmp / "fleet.parquet"
        generate_fleet(installations, seed=seed, mean_han_per=0.3, mean_bridge_per=0.4).write(self.fleet_path)
        self.fleet = read_fleet(self.fleet_path)
        self.plan_path = tmp / "plan.json"
        self.plan_path.write_text(plan(self.fleet).to_json())
        self.emulation_path = tmp / "emulation.json"
        self.emulation_path.write_text(_params_json(emulation or EmulationParams()))
        self.firmware = tmp / "image.bin"
        self.firmware.write_bytes(build_gbcs(bytes(range(256)) * 32, manufacturer_code=0x1234, image_type=0x0101,
                                             file_version=NEW, min_hardware_version=1, max_hardware_version=3,
                                             signed=False))
        self.listen = ("127.0.0.1", free_port())
        self.peer: subprocess.Popen | None = None

    def options(self, quiet_s: float = 2.0) -> LiveOptions:
        return LiveOptions(dcc_url=f"http://127.0.0.1:{self.peer_port}", listen=self.listen, key=USER_KEY,
                           cert=USER_CERT, certs=CERTS, firmware=self.firmware, quiet_s=quiet_s,
                           send_timeout_s=20.0)

    def start_peer(self, *extra: str) -> None:
        port_file = self.tmp / f"peer-port-{time.monotonic_ns()}"
        self.peer = subprocess.Popen(
            [sys.executable, "-m", "althan_ota.testing.dcc_peer", "--fleet", str(self.fleet_path), "--plan",
             str(self.plan_path), "--seed", str(self.seed), "--deliver-to",
             f"http://{self.listen[0]}:{self.listen[1]}/duis", "--dsp-key", str(DSP_KEY), "--dsp-cert",
             str(DSP_CERT), "--certs", str(CERTS), "--port-file", str(port_file), "--emulation",
             str(self.emulation_path), *extra])
        deadline = time.time() + 60
        while not port_file.exists():
            if self.peer.poll() is not None or time.time() > deadline:
                raise RuntimeError("the DCC peer did not start")
            time.sleep(0.05)
        self.peer_port = int(port_file.read_text())

    def stop_peer(self) -> None:
        if self.peer is not None and self.peer.poll() is None:
            self.peer.terminate()
            self.peer.wait(10)

    def peer_stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.peer_port}/stats", timeout=10) as r:
            return json.load(r)

    def emulator_states(self) -> dict:
        with CampaignStore(":memory:") as store:
            cid = create_campaign(store, plan(self.fleet), self.fleet, str(self.fleet_path), seed=self.seed,
                                  emulation=self.emulation, campaign_id="e")
            run_campaign(store, cid, fleet=self.fleet, n_threads=1)
            return final_states(store, cid)


def final_states(store: CampaignStore, campaign_id: str) -> dict:
    devices = store.table("devices", campaign_id).to_pylist()
    return {d["device_id"]: (d["state"], d["reason"], d["attempts"]) for d in devices}


def live_cli_args(setup: Setup, quiet_s: float = 2.0) -> list[str]:
    return ["--executor", "dcc", "--dcc-url", f"http://127.0.0.1:{setup.peer_port}", "--listen",
            f"{setup.listen[0]}:{setup.listen[1]}", "--key", str(USER_KEY), "--cert", str(USER_CERT), "--certs",
            str(CERTS), "--firmware", str(setup.firmware), "--quiet-s", str(quiet_s)]
