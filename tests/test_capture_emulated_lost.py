"""An emulated capture's corrupted frames are the lost exchanges: read against a timing-only traced run of the
same installations (no byte pass involved), every corrupted Image Block Response carries the time and offset of
an exchange the timing run lost (or an outage cut), and every intact one those of a delivered exchange. A
response is in the capture exactly when the CH sent it: every command of the set, lost or not."""

from __future__ import annotations

import numpy as np
import pytest

from althan_ota import capture as C
from althan_ota import frames as F
from althan_ota.checksum import crc
from althan_ota.emulate import BridgeLink, EmulationParams, HanLink, OtaParams, OutageParams, emulate
from althan_ota.emulate.trace import KINDS, RESULTS

LOSSY = EmulationParams(han=HanLink(per=0.5, max_retries=2), bridge=BridgeLink(per=0.5, duty_cycle=1.0),
                        outages=OutageParams(ch_mean_up_s=30.0, ch_mean_down_s=5.0, hub_mean_down_s=0.0,
                                             meter_mean_down_s=0.0),
                        ota=OtaParams(max_consecutive_failures=5), deadline_s=30 * 86400.0)
INSTALLATIONS = [2, 9, 14]
SEED = 5
EPS = 1e-6      # capture times are seconds since the epoch: float64 keeps about 0.2 us of them


@pytest.fixture(scope="module")
def image() -> bytes:
    return np.random.default_rng(2).integers(0, 256, 3_000, dtype=np.uint8).tobytes()


def test_corrupted_frames_carry_the_lost_exchanges_times(image):
    frames, devices = C.emulated_capture(image, INSTALLATIONS, seed=SEED, params=LOSSY, requests=False)
    timing = emulate(len(INSTALLATIONS), len(image), LOSSY, seed=SEED, installation_keys=INSTALLATIONS, trace=True)
    upgrade_end, delivered, cut = KINDS.index("upgrade_end"), RESULTS.index("delivered"), RESULTS.index("cut")
    data_kinds = [KINDS.index(k) for k in ("block", "last_block", "upgrade_end")]
    start = C.SessionConfig.start
    corrupted_seen = 0
    for row in range(len(devices)):
        ex = timing.trace.device(row)
        ex = ex[np.isin(ex["kind"], data_kinds)]                              # the notify and query carry no data
        ex = ex[(ex["kind"] != upgrade_end) & ex["answered"]]    # the block exchanges whose response went on air
        lost = ex["result"] != delivered
        when = np.where(ex["result"] == cut, ex["t_response"], ex["t_attempts_end"])
        mine = [f for f in frames if f.device == row]
        assert len(mine) == ex.shape[0]
        bad = np.array([f.corrupted for f in mine], dtype=bool)
        assert np.array_equal(bad, lost), f"row {row}: corrupted frames are not the lost exchanges"
        t = np.array([f.time for f in mine]) - start
        assert np.allclose(t[bad], when[lost], rtol=0, atol=EPS)
        assert np.allclose(t[~bad], ex["t_response"][~lost], rtol=0, atol=EPS)   # intact: the response arrived
        # an intact frame carries the offset its exchange asked for
        key = F.Keys(nwk_key=devices[row].nwk_key)
        carried = [F.parse(f.psdu, key).frame.ota.file_offset for f in mine if not f.corrupted]
        assert carried == ex["offset"][~lost].tolist()
        corrupted_seen += int(bad.sum())
    assert corrupted_seen > 30



RESPONSE = {"query_next_image": "QueryNextImageResponse", "block": "ImageBlockResponse",
            "last_block": "ImageBlockResponse", "wait_for_data": "ImageBlockResponse",
            "upgrade_end": "UpgradeEndResponse"}


def test_every_response_the_ch_sent_and_no_other(image):
    """Each exchange whose request reached the CH has the CH's response in the capture (the Query Next Image
    Response, a block or WAIT_FOR_DATA answer, the Upgrade End Response): intact at its arrival when it was
    delivered, corrupted when its last attempt ended when it was lost. An exchange whose request was lost has
    none. Corrupted frames fail the FCS or the MIC, as the byte pass's do."""
    params = EmulationParams(han=HanLink(per=0.45, max_retries=1), bridge=BridgeLink(per=0.4, duty_cycle=1.0),
                             ota=OtaParams(max_consecutive_failures=8, ch_ready_delay_s=30.0,
                                           wait_for_data_delay_s=0.5), deadline_s=30 * 86400.0)
    frames, devices = C.emulated_capture(image, INSTALLATIONS, seed=SEED, params=params)
    timing = emulate(len(INSTALLATIONS), len(image), params, seed=SEED, installation_keys=INSTALLATIONS, trace=True)
    start, delivered, cut = C.SessionConfig.start, RESULTS.index("delivered"), RESULTS.index("cut")
    lost_seen = {}
    for row in range(len(devices)):
        ex = timing.trace.device(row)
        ex = ex[ex["kind"] != KINDS.index("image_notify")]
        assert not ex["answered"].all() and ex["answered"].any()
        ex = ex[ex["answered"]]
        told = [f for f in frames if f.device == row and f.sender == "server" and f.command != "ImageNotify"]
        assert [f.command for f in told] == [RESPONSE[KINDS[k]] for k in ex["kind"]]
        ok = ex["result"] == delivered
        assert [f.corrupted for f in told] == (~ok).tolist()
        when = np.where(ok | (ex["result"] == cut), ex["t_response"], ex["t_attempts_end"])
        assert np.allclose([f.time - start for f in told], when, rtol=0, atol=EPS)
        key = F.Keys(nwk_key=devices[row].nwk_key)
        for f, kind in zip(told, ex["kind"]):
            if f.corrupted:
                lost_seen[KINDS[kind]] = lost_seen.get(KINDS[kind], 0) + 1
                assert not _accepted(f.psdu, key)
            else:
                assert _accepted(f.psdu, key)
    # the parameters lose responses of every kind the CH sends
    assert {"query_next_image", "block", "wait_for_data"} <= lost_seen.keys(), lost_seen


def _accepted(psdu: bytes, key: F.Keys) -> bool:
    """A receiver takes the frame: its FCS holds and it parses and authenticates under the device's key."""
    if crc(psdu[:-2], "CRC-16/KERMIT") != int.from_bytes(psdu[-2:], "little"):
        return False
    try:
        F.parse(psdu, key)
    except ValueError:
        return False
    return True
