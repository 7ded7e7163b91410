"""The shared-channel model of a building (csrc/emu_channel.h, althan_ota.emulate.channel): closed forms of
pure ALOHA and non-persistent CSMA, the duty-cycle bound, the lone 802.15.4 station's mean access delay, and
agreement with an independent SimPy model of the same rules for 1, 10 and 100 stations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from althan_ota.emulate.channel import channel_config, simulate_channel
from althan_ota.emulate.params import Csma802154, EmulationParams, ListenBeforeTalk
from althan_ota.errors import ParameterError

AIRTIME = 1e-3


@pytest.mark.parametrize("load", [0.25, 0.5, 1.0])
def test_pure_aloha_matches_s_equals_g_e_minus_2g(load):
    # many lightly loaded stations: the attempts are a Poisson process of rate G per airtime
    stats = simulate_channel(channel_config(1000, AIRTIME, access="aloha", load=load, seed=3), duration_s=100)
    g = stats.attempt_rate
    assert g == pytest.approx(load, rel=0.03)
    # ~1e5 frames: the success share's standard error is below 0.002
    assert 1 - stats.collision_probability == pytest.approx(math.exp(-2 * g), abs=0.01)
    assert stats.throughput == pytest.approx(g * math.exp(-2 * g), abs=0.01)


def _kleinrock_tobagi(g: float, a: float) -> float:
    """Throughput of unslotted non-persistent CSMA (Kleinrock & Tobagi 1975, eq. 9), a = delay / airtime."""
    return g * math.exp(-a * g) / (g * (1 + 2 * a) + math.exp(-a * g))


@pytest.mark.parametrize("load", [0.3, 0.6])
def test_nonpersistent_csma_matches_kleinrock_tobagi(load):
    # a = 10 µs / 1 ms of vulnerable time between sensing and transmitting; long random deferrals keep the
    # sensing process (new and rescheduled frames) close to Poisson, as the closed form assumes
    cfg = channel_config(2000, AIRTIME, access="nonpersistent", load=load, mean_deferral_s=50 * AIRTIME,
                         csma=Csma802154(cca_to_tx_s=10e-6), seed=5)
    stats = simulate_channel(cfg, duration_s=100)
    a = cfg["cca_to_tx"] / cfg["airtime"]
    g = stats.sensing_rate
    assert g > load                       # deferred frames sense again
    assert stats.throughput == pytest.approx(_kleinrock_tobagi(g, a), abs=0.015)
    # unsaturated: (almost) everything offered gets through eventually, so S tracks the offered load
    assert stats.throughput == pytest.approx(load, rel=0.05)


@pytest.mark.parametrize("stations", [3, 20])
def test_duty_cycle_bounds_every_transmitter(stations):
    duty = 0.1
    cfg = channel_config(stations, AIRTIME, access="lbt", duty_cycle=duty, seed=2)
    duration = 20.0
    stats = simulate_channel(cfg, duration_s=duration)
    assert np.all(stats.station_airtime_s <= duty * duration + AIRTIME)
    # the channel carries at most N·dc, and at most all of it
    assert stats.busy_fraction <= min(1.0, stations * duty) + 1e-9
    if stations * duty < 1:
        # little contention: each transmitter nearly reaches its bound
        assert np.all(stats.station_airtime_s >= 0.8 * duty * duration)


def test_lone_802154_station_mean_access_delay():
    csma = Csma802154()
    stats = simulate_channel(channel_config(1, AIRTIME, access="csma_802154", seed=1), duration_s=60)
    expected = (2 ** csma.min_be - 1) / 2 * csma.unit_backoff_s + csma.cca_s + csma.cca_to_tx_s
    assert stats.mean_access_delay_s == pytest.approx(expected, rel=0.01)
    assert stats.collided == 0 and stats.busy_assessments == 0 and stats.access_failures == 0


def test_capture_lets_the_stronger_frame_survive():
    cfg = channel_config(10, AIRTIME, access="aloha", load=0.5, seed=4)
    power = np.zeros(10)
    power[0] = 20.0
    plain = simulate_channel(cfg, duration_s=20, power_db=power)
    captured = simulate_channel(dict(cfg, capture_margin_db=6.0), duration_s=20, power_db=power)
    assert captured.sent == plain.sent                  # capture changes outcomes, not draws
    assert captured.delivered > plain.delivered


def test_runs_are_reproducible_and_keyed():
    cfg = channel_config(20, AIRTIME, access="csma_802154", load=0.8, seed=9, key=1)
    a = simulate_channel(cfg, duration_s=5, record_delays=100)
    b = simulate_channel(cfg, duration_s=5, record_delays=100)
    c = simulate_channel(dict(cfg, key=2), duration_s=5)
    assert (a.sent, a.collided, list(a.access_delays_s)) == (b.sent, b.collided, list(b.access_delays_s))
    assert (a.sent, a.collided) != (c.sent, c.collided)


def _two_proportions_agree(k1, n1, k2, n2, z=5.0) -> bool:
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(max(p * (1 - p), 1e-12) * (1 / n1 + 1 / n2))
    return abs(k1 / n1 - k2 / n2) <= z * se


@pytest.mark.parametrize("stations,access", [(1, "csma_802154"), (10, "csma_802154"), (100, "csma_802154"),
                                             (10, "lbt")])
def test_agrees_with_the_simpy_model(stations, access):
    pytest.importorskip("simpy")
    from scipy.stats import ks_2samp

    from althan_ota.testing.simpy_channel import simulate_channel_reference

    # a busy channel (offered load 0.6 of the airtime) so that collisions, busy CCAs and failures all occur
    cfg = channel_config(stations, 2e-3, access=access, load=0.6, duty_cycle=0.5, seed=11)
    duration = 30.0
    engine = simulate_channel(cfg, duration_s=duration, record_delays=100_000)
    ref = simulate_channel_reference(cfg, duration_s=duration, seed=11)
    done_e, done_r = engine.delivered + engine.collided, ref.delivered + ref.collided
    assert _two_proportions_agree(engine.collided, done_e, ref.collided, done_r)
    assert _two_proportions_agree(engine.access_failures, engine.sent + engine.access_failures,
                                  ref.access_failures, ref.sent + ref.access_failures)
    assert _two_proportions_agree(engine.busy_assessments, engine.assessments, ref.busy_assessments,
                                  ref.assessments)
    assert ks_2samp(engine.access_delays_s, np.asarray(ref.access_delays_ns) / 1e9).pvalue > 1e-3


@pytest.mark.parametrize("access", ["aloha", "nonpersistent"])
def test_agrees_with_the_simpy_model_with_capture(access):
    # 30 stations whose received powers spread over 20 dB, capture above 6 dB: the twin must keep the same
    # frames alive
    pytest.importorskip("simpy")
    from scipy.stats import ks_2samp

    from althan_ota.testing.simpy_channel import simulate_channel_reference

    cfg = channel_config(30, 2e-3, access=access, load=0.5, mean_deferral_s=0.02, capture_margin_db=6.0, seed=13)
    power = np.linspace(0.0, 20.0, 30)
    engine = simulate_channel(cfg, duration_s=30.0, power_db=power, record_delays=100_000)
    ref = simulate_channel_reference(cfg, duration_s=30.0, power_db=power, seed=13)
    assert engine.collided > 100 and ref.collided > 100
    assert _two_proportions_agree(engine.collided, engine.delivered + engine.collided, ref.collided,
                                  ref.delivered + ref.collided)
    if access == "nonpersistent":
        assert ks_2samp(engine.access_delays_s, np.asarray(ref.access_delays_ns) / 1e9).pvalue > 1e-3


@pytest.mark.parametrize("kwargs,match", [
    ({"access": "token"}, "access must be one of"),
    ({"load": -1.0}, "load"),
    ({"duty_cycle": 0.0}, "duty_cycle"),
    ({"capture_margin_db": float("nan")}, "capture_margin_db"),
])
def test_channel_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        channel_config(4, AIRTIME, **kwargs)


def test_simulate_channel_rejects_bad_powers():
    with pytest.raises(ParameterError, match="power_db"):
        simulate_channel(channel_config(4, AIRTIME), duration_s=1, power_db=[0.0, 1.0])


@pytest.mark.parametrize("changes,match", [
    ({"contention": 1}, "contention must be True or False"),
    ({"han_channels": 0}, "han_channels"),
    ({"han_channels": 17}, "han_channels"),
    ({"bridge_channels": 0}, "bridge_channels"),
    ({"capture_margin_db": -1.0}, "capture_margin_db"),
    ({"rssi_sigma_db": math.inf}, "rssi_sigma_db"),
])
def test_contention_parameters_are_validated(changes, match):
    with pytest.raises(ParameterError, match=match):
        EmulationParams(**changes).validate(80)


def test_access_parameters_are_validated():
    from althan_ota.emulate.params import BridgeLink, HanLink
    with pytest.raises(ParameterError, match="han.csma.max_be"):
        EmulationParams(han=HanLink(csma=Csma802154(min_be=5, max_be=3))).validate(80)
    with pytest.raises(ParameterError, match="bridge.lbt.max_slots"):
        EmulationParams(bridge=BridgeLink(lbt=ListenBeforeTalk(max_slots=0))).validate(80)
    EmulationParams(contention=True, capture_margin_db=6.0, han_channels=4,
                    bridge=BridgeLink(lbt=None)).validate(80)


def test_emulate_needs_buildings_for_contention():
    from althan_ota.emulate import emulate
    with pytest.raises(ParameterError, match="contention=True needs .* who shares the air"):
        emulate(2, 1_000, EmulationParams(contention=True))
    # off (the default) runs as before
    assert len(emulate(2, 1_000, EmulationParams(contention=False), seed=1)) == 4
