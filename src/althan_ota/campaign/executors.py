"""Executors: what carries out one wave of a campaign for the shared wave loop (runner.py).

The wave loop owns targets, waves, the request book, thresholds, pause/abort and the store; an executor is
handed one wave (a :class:`WaveJob`) and returns its :class:`WaveOutcome`: every attempt of every device,
as state events. Two exist: :class:`EmulatorExecutor` (the C engine, emulation.py) and the live DUIS
executor ``althan_ota.live.DccExecutor`` (requests to the DCC over HTTP, alerts back to a listener).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..emulate import EmulationParams
from ..fleet import Fleet
from .building_places import BuildingPlaces
from .emulation import WaveOutcome, emulate_wave
from .plan import CampaignPlan, WavePlan
from .slots import RequestBook


@dataclass
class WaveJob:
    """One wave to carry out: units ``lo:hi`` of ``waves``, first requested at ``release`` (their slots
    already taken in ``book``, which retries draw from)."""

    campaign_id: str
    wave: int
    plan: CampaignPlan
    emulation: EmulationParams
    seed: int
    fleet: Fleet
    waves: WavePlan
    lo: int
    hi: int
    release: np.ndarray
    book: RequestBook
    places: BuildingPlaces | None = None        # the plan's building concurrency cap, as the run left it


class Executor(Protocol):
    def session(self, store, campaign_id: str):
        """A context manager around a run: servers and connections the executor needs while waves go."""

    def run_wave(self, job: WaveJob) -> WaveOutcome:
        """Every attempt of the wave's devices, to their final states."""


class EmulatorExecutor:
    """The fleet emulator: a wave is a few runs of the C engine (campaign/emulation.py)."""

    def __init__(self, n_threads: int | None = None):
        self.n_threads = n_threads

    def session(self, store, campaign_id: str):
        return contextlib.nullcontext(self)

    def run_wave(self, job: WaveJob) -> WaveOutcome:
        return emulate_wave(job.plan, job.emulation, job.waves, job.lo, job.hi, job.release, job.seed, job.book,
                            n_threads=self.n_threads, places=job.places)
