"""Parameters of the fleet emulator, each with a documented default and a validated range.

Sources for the defaults:

* HAN: IEEE 802.15.4-2015 O-QPSK PHY at 2.4 GHz (250 kbit/s, 32 µs an octet, 6 PHY octets of preamble,
  SFD and PHR), macMaxFrameRetries = 3, aTurnaroundTime = 12 symbols (192 µs), macAckWaitDuration =
  54 symbols (864 µs); the mean unslotted CSMA-CA delay with macMinBE = 3 (3.5 backoff periods of 320 µs)
  plus one CCA (128 µs).
* Bridge link: a P2P link in the 869.40–869.65 MHz band (ERC/REC 70-03 Annex 1, EN 300 220-2: 500 mW,
  10% duty cycle), framed like the IEEE 802.15.4g SUN FSK PHY in its mandatory 50 kbit/s mode (8 preamble
  octets, 2-octet SFD, 2-octet PHR, then a 2-octet frame control and a sequence number on a point-to-point
  link without addresses, 4-octet FCS), aTurnaroundTime 1 ms. Alt HAN bridge radios are vendor-specific, so
  every figure is a parameter; these are a defensible middle.
* PERs: 2% on the HAN, 10% on the bridge link (the edge-of-coverage installations Alt HAN serves; the design
  notes put 10–30% as normal there).
* OTA: every download is Image Notify, Query Next Image, the blocks, Upgrade End (frame sizes in
  ``emulate/airtime.py``: ZCL 11.13.4 payloads built by ``althan_ota.frames``); 50-byte blocks (ZigBee OTA
  devices use 40–64), a 100 ms minimum block period, 5 s response timeout,
  abort after 10 consecutive failed exchanges, one OTA client per CH at a time, meter-side bridge first (so
  the relay keeps its proven firmware while the far end updates). WAIT_FOR_DATA off (``ch_ready_delay_s``
  0); when on, the CH asks for 10 s (a value of our choosing: ZCL leaves RequestTime to the server).
* Shared channels (``EmulationParams.contention``): the HAN's IEEE 802.15.4-2015 unslotted CSMA-CA (§6.2.5.1;
  2.4 GHz O-QPSK: aUnitBackoffPeriod 20 symbols = 320 µs, macMinBE 3, macMaxBE 5, macMaxCSMABackoffs 4, CCA 8
  symbols = 128 µs, aTurnaroundTime 12 symbols = 192 µs from CCA to transmission) and the bridge link's
  polite spectrum access of ETSI EN 300 220-1 V3.1.1 §5.21 (EN 300 220-2 V3.1.1 §4.5.1): listen for the CCA
  interval, and on a busy channel defer by a random whole number of deferral periods. The standard sets the
  procedure and lower bounds; the listen time, deferral period and the number of deferrals before the frame
  attempt is given up are vendor choices, so they are parameters with a middle-of-the-road default.
* Outages, WAN and activation figures are illustrative planning assumptions, not measurements: change them
  to your own data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from ..errors import ParameterError

PAIR_ORDERS = ("meter_first", "hub_first", "concurrent")


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise ParameterError(msg)


def _finite(name: str, value: float, lo: float = 0.0, hi: float = math.inf, hi_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and lo <= value and (value < hi if hi_open else value <= hi)
    bound = f"{'<' if hi_open else '<='} {hi}" if math.isfinite(hi) else "finite"
    _check(ok, f"{name} must be a number >= {lo} and {bound}, got {value!r}")


def _count(name: str, value: int, lo: int, hi: int = 2**31 - 1) -> None:
    _check(isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi,
           f"{name} must be an integer in [{lo}, {hi}], got {value!r}")


@dataclass(frozen=True)
class GilbertElliott:
    """Bursty losses: a two-state channel advanced once per link-layer attempt. In the good state attempts
    fail with the link's PER, in the bad state with ``per_bad``; sojourns are geometric with the given means
    (in attempts). The long-run loss rate is (g·per + b·per_bad) / (g + b)."""

    per_bad: float = 0.5
    mean_bad_len: float = 5.0
    mean_good_len: float = 200.0

    def validate(self, where: str) -> None:
        _finite(f"{where}.per_bad", self.per_bad, 0.0, 1.0, hi_open=True)
        _finite(f"{where}.mean_bad_len", self.mean_bad_len, 1.0)
        _finite(f"{where}.mean_good_len", self.mean_good_len, 1.0)


@dataclass(frozen=True)
class Csma802154:
    """IEEE 802.15.4-2015 unslotted CSMA-CA (§6.2.5.1) as the HAN runs it when channels are shared: wait a
    random 0 .. 2^BE − 1 unit backoff periods, sense for ``cca_s``; idle: transmit ``cca_to_tx_s`` later;
    busy: BE = min(BE + 1, max_be) and try again, giving the attempt up after ``max_backoffs`` + 1 busy
    assessments (a channel access failure counts as a failed link-layer attempt)."""

    unit_backoff_s: float = 320e-6    # aUnitBackoffPeriod: 20 symbols of 16 µs
    min_be: int = 3                   # macMinBE
    max_be: int = 5                   # macMaxBE
    max_backoffs: int = 4             # macMaxCSMABackoffs
    cca_s: float = 128e-6             # CCA: 8 symbols
    cca_to_tx_s: float = 192e-6       # aTurnaroundTime: 12 symbols, receive to transmit

    def validate(self, where: str) -> None:
        _finite(f"{where}.unit_backoff_s", self.unit_backoff_s, 1e-9, 1.0)
        _count(f"{where}.min_be", self.min_be, 0, 8)
        _count(f"{where}.max_be", self.max_be, self.min_be, 8)
        _count(f"{where}.max_backoffs", self.max_backoffs, 0, 5)
        _finite(f"{where}.cca_s", self.cca_s, 1e-9, 1.0)
        _finite(f"{where}.cca_to_tx_s", self.cca_to_tx_s, 0.0, 1.0)


@dataclass(frozen=True)
class ListenBeforeTalk:
    """ETSI EN 300 220-1 V3.1.1 §5.21 polite spectrum access on the bridge link when channels are shared:
    listen for ``listen_s``; idle: transmit ``listen_to_tx_s`` later; busy: defer a random 1 .. ``max_slots``
    deferral periods of ``slot_s`` and listen again, giving the attempt up after ``max_deferrals`` + 1
    busy listens. The duty cycle still applies per transmitter on top."""

    listen_s: float = 160e-6
    listen_to_tx_s: float = 100e-6
    slot_s: float = 0.5e-3
    max_slots: int = 10
    max_deferrals: int = 8

    def validate(self, where: str) -> None:
        _finite(f"{where}.listen_s", self.listen_s, 1e-9, 1.0)
        _finite(f"{where}.listen_to_tx_s", self.listen_to_tx_s, 0.0, 1.0)
        _finite(f"{where}.slot_s", self.slot_s, 1e-9, 60.0)
        _count(f"{where}.max_slots", self.max_slots, 1, 1_000_000)
        _count(f"{where}.max_deferrals", self.max_deferrals, 0, 1000)


@dataclass(frozen=True)
class _Link:
    per: float
    per_concentration: float | None
    burst: GilbertElliott | None
    max_retries: int
    tx_delay_s: float
    turnaround_s: float
    ack_timeout_s: float

    def validate(self, where: str) -> None:
        _finite(f"{where}.per", self.per, 0.0, 1.0, hi_open=True)
        if self.per_concentration is not None:
            _finite(f"{where}.per_concentration", self.per_concentration, 1e-6)
            _check(self.per_concentration > 0, f"{where}.per_concentration must be > 0")
        if self.burst is not None:
            _check(isinstance(self.burst, GilbertElliott), f"{where}.burst must be a GilbertElliott or None")
            self.burst.validate(f"{where}.burst")
        _count(f"{where}.max_retries", self.max_retries, 0, 255)
        for name in ("tx_delay_s", "turnaround_s", "ack_timeout_s"):
            _finite(f"{where}.{name}", getattr(self, name), 0.0, 60.0)


@dataclass(frozen=True)
class HanLink(_Link):
    """The 2.4 GHz 802.15.4 HAN between the CH and the hub-side bridge (250 kbit/s, no duty-cycle limit).

    ``per``: probability that one link-layer attempt (frame or its MAC acknowledgement) is lost.
    ``per_concentration``: if set, each installation's PER is drawn from Beta(c·per, c·(1−per)) (mean per;
    smaller c spreads installations further apart), unless per-installation arrays are given."""

    per: float = 0.02
    per_concentration: float | None = None
    burst: GilbertElliott | None = None
    max_retries: int = 3
    tx_delay_s: float = 1.248e-3
    turnaround_s: float = 192e-6
    ack_timeout_s: float = 864e-6
    bit_rate_bps: int = 250_000
    phy_overhead_bytes: int = 6     # preamble 4, SFD 1, PHR 1
    ack_psdu_bytes: int = 5         # frame control 2, sequence 1, FCS 2
    csma: Csma802154 = field(default_factory=Csma802154)   # replaces tx_delay_s when channels are shared

    def validate(self, where: str = "han") -> None:
        super().validate(where)
        _check(isinstance(self.csma, Csma802154), f"{where}.csma must be a Csma802154")
        self.csma.validate(f"{where}.csma")
        _check(self.bit_rate_bps == 250_000,
               f"{where}.bit_rate_bps is fixed by the 2.4 GHz O-QPSK PHY at 250000, got {self.bit_rate_bps!r}")


@dataclass(frozen=True)
class BridgeLink(_Link):
    """The sub-GHz link between the hub-side and meter-side bridges. It relays the HAN's NWK frames (the
    802.15.4 MAC header and FCS are replaced by this link's framing). ``duty_cycle`` applies per transmitter
    as a per-transmission off-time (see csrc/emu.h); 1.0 means no limit (e.g. LBT+AFA operation)."""

    per: float = 0.10
    per_concentration: float | None = None
    burst: GilbertElliott | None = None
    max_retries: int = 3
    tx_delay_s: float = 0.5e-3
    turnaround_s: float = 1e-3
    ack_timeout_s: float = 5e-3
    bit_rate_bps: int = 50_000
    duty_cycle: float = 0.10
    preamble_bytes: int = 8
    sync_bytes: int = 2
    header_bytes: int = 5           # PHR 2, frame control 2, sequence 1
    crc_bytes: int = 4
    ack_payload_bytes: int = 0
    # replaces tx_delay_s when channels are shared; None: transmit without listening (pure ALOHA)
    lbt: ListenBeforeTalk | None = field(default_factory=ListenBeforeTalk)

    def validate(self, where: str = "bridge") -> None:
        super().validate(where)
        if self.lbt is not None:
            _check(isinstance(self.lbt, ListenBeforeTalk), f"{where}.lbt must be a ListenBeforeTalk or None")
            self.lbt.validate(f"{where}.lbt")
        _count(f"{where}.bit_rate_bps", self.bit_rate_bps, 100, 10_000_000)
        _finite(f"{where}.duty_cycle", self.duty_cycle, 1e-4, 1.0)
        for name in ("preamble_bytes", "sync_bytes", "header_bytes", "crc_bytes", "ack_payload_bytes"):
            _count(f"{where}.{name}", getattr(self, name), 0, 255)

    @property
    def overhead_bytes(self) -> int:
        return self.preamble_bytes + self.sync_bytes + self.header_bytes + self.crc_bytes


@dataclass(frozen=True)
class OtaParams:
    """The ZigBee OTA command set as the bridges (clients) and the CH (server) run it: Image Notify, Query Next
    Image, Image Block Request/Response, Upgrade End (csrc/emu.h, "The command set"; docs/emulation.md).

    WAIT_FOR_DATA: the CH announces the image when it reaches it but serves blocks only ``ch_ready_delay_s``
    later (verifying and storing it); a block request reaching it before then is answered WAIT_FOR_DATA,
    asking the client to come back in ``wait_for_data_delay_s`` (the client waits that, at least
    ``min_block_period_s``, after the response). 0 (the default): the CH serves at once and never answers
    WAIT_FOR_DATA, so results keep the meaning they had before it was modelled."""

    block_size: int = 50
    min_block_period_s: float = 0.1
    ch_response_delay_s: float = 0.005
    response_timeout_s: float = 5.0
    max_consecutive_failures: int = 10
    ch_concurrency: int = 1
    pair_order: str = "meter_first"
    ch_ready_delay_s: float = 0.0
    wait_for_data_delay_s: float = 10.0

    def validate(self, max_block: int) -> None:
        _count("ota.block_size", self.block_size, 1, 2**31 - 1)
        _check(self.block_size <= max_block,
               f"ota.block_size {self.block_size} does not fit one Image Block Response: at most {max_block} "
               "data bytes fit a 127-byte 802.15.4 frame with the NWK/APS/ZCL headers and MIC")
        _finite("ota.min_block_period_s", self.min_block_period_s, 0.0, 3600.0)
        _finite("ota.ch_response_delay_s", self.ch_response_delay_s, 0.0, 3600.0)
        _finite("ota.response_timeout_s", self.response_timeout_s, 0.0, 3600.0)
        _finite("ota.ch_ready_delay_s", self.ch_ready_delay_s, 0.0, 1e8)
        _finite("ota.wait_for_data_delay_s", self.wait_for_data_delay_s, 0.0, 86400.0)
        _count("ota.max_consecutive_failures", self.max_consecutive_failures, 1, 1_000_000)
        _count("ota.ch_concurrency", self.ch_concurrency, 1)
        _check(self.pair_order in PAIR_ORDERS, f"ota.pair_order must be one of {PAIR_ORDERS}, got "
                                                f"{self.pair_order!r}")
        _check((self.pair_order == "concurrent") == (self.ch_concurrency >= 2),
               f"ota.pair_order {self.pair_order!r} does not match ota.ch_concurrency {self.ch_concurrency}: a "
               "CH serving one client at a time needs 'meter_first' or 'hub_first'; one serving two or more "
               "serves both bridges at once ('concurrent')")


@dataclass(frozen=True)
class OutageParams:
    """Offline periods. Random ones alternate exponential up and down times from t = 0 per entity (CH,
    hub-side bridge, meter-side bridge; ``*_mean_down_s = 0`` disables them); ``ch_windows``,
    ``hub_windows`` and ``meter_windows`` are scheduled offline windows ``(start_s, end_s)`` (e.g. CH firmware
    maintenance, a planned power cut) applying to every installation."""

    ch_mean_up_s: float = 30 * 86400.0
    ch_mean_down_s: float = 3600.0
    hub_mean_up_s: float = 60 * 86400.0
    hub_mean_down_s: float = 1800.0
    meter_mean_up_s: float = 60 * 86400.0
    meter_mean_down_s: float = 1800.0
    ch_windows: tuple[tuple[float, float], ...] = ()
    hub_windows: tuple[tuple[float, float], ...] = ()
    meter_windows: tuple[tuple[float, float], ...] = ()

    def validate(self) -> None:
        for who in ("ch", "hub", "meter"):
            _finite(f"outages.{who}_mean_down_s", getattr(self, f"{who}_mean_down_s"), 0.0)
            # at least a second between outages on average, so a run cannot drown in them
            _finite(f"outages.{who}_mean_up_s", getattr(self, f"{who}_mean_up_s"), 1.0)
        for who in ("ch", "hub", "meter"):
            prev_end = 0.0
            for i, w in enumerate(getattr(self, f"{who}_windows")):
                where = f"outages.{who}_windows[{i}]"
                _check(isinstance(w, (tuple, list)) and len(w) == 2,
                       f"{where} must be a (start_s, end_s) pair, got {w!r}")
                start, end = w
                _finite(f"{where} start", start, 0.0, 1e9)
                _finite(f"{where} end", end, 0.0, 1e9)
                _check(end > start, f"{where} ends ({end}) before it starts ({start})")
                _check(start >= prev_end, f"{where} overlaps or precedes the window before it")
                prev_end = end

    @classmethod
    def none(cls) -> "OutageParams":
        """No outages at all (a clean baseline)."""
        return cls(ch_mean_down_s=0.0, hub_mean_down_s=0.0, meter_mean_down_s=0.0)


#: How shared air is emulated (EmulationParams.contention_model).
CONTENTION_MODELS = ("stepped", "statistical")


@dataclass(frozen=True)
class EmulationParams:
    """Everything the emulator needs besides the fleet, the image size and the seed.

    WAN: the image reaches each CH after a log-normal delay (median ``wan_delay_median_s``, log-sd
    ``wan_delay_sigma``) or never (``wan_failure_prob``). Activation happens when the Upgrade End exchange
    completes, or at ``activation_time_s`` (seconds from the campaign start) if that is later; it fails with
    ``activation_failure_prob``, leaving the old version running. The version is read back
    ``readback_delay_s`` after activation (CS09 alert, then SRV 11.2). Downloads unfinished at ``deadline_s``
    end as "timeout".

    ``contention``: installations of one building (the fleet's ``building_id``) share the air — the meter-side
    bridges of a building share ``bridge_channels`` sub-GHz channels, its hub-side bridges and CHs
    ``han_channels`` 2.4 GHz channels (installations assigned round-robin, or by a fleet ``channel`` column);
    frames overlapping at a receiver are lost unless the stronger is ``capture_margin_db`` above the other
    (None: no capture). Per-link received powers for capture are drawn per installation around a common mean
    with ``rssi_sigma_db`` spread. Off (the default): every installation has the air to itself, as before.
    ``building_cap`` (with contention): at most this many installations of a building download at once; the
    others wait for a place, first come first served, from the moment their image reaches the CH (None: no
    cap).

    ``contention_model`` (with contention): ``"stepped"`` puts every frame on its channel (exact, and slow when
    many downloads overlap: about 58,000 events per installation); ``"statistical"`` gives each attempt the
    failure probability and mean access delay the stepped model itself measured at the attempt's contention
    level (the other installations' downloads active on the channel), so overlapping downloads keep the
    closed-form loop (csrc/emu.h "Statistical contention"). A download reads its level again every
    ``statistical_step_s`` of its time, so a start or an end reaches the others at most that late."""

    han: HanLink = field(default_factory=HanLink)
    bridge: BridgeLink = field(default_factory=BridgeLink)
    ota: OtaParams = field(default_factory=OtaParams)
    outages: OutageParams = field(default_factory=OutageParams)
    wan_failure_prob: float = 0.005
    wan_delay_median_s: float = 600.0
    wan_delay_sigma: float = 1.0
    activation_failure_prob: float = 0.001
    activation_time_s: float | None = None
    readback_delay_s: float = 300.0
    deadline_s: float = 7 * 86400.0
    contention: bool = False
    han_channels: int = 1
    bridge_channels: int = 1
    capture_margin_db: float | None = None
    rssi_sigma_db: float = 6.0
    building_cap: int | None = None
    contention_model: str = "stepped"
    statistical_step_s: float = 30.0

    def validate(self, max_block: int) -> None:
        for name, cls in (("han", HanLink), ("bridge", BridgeLink), ("ota", OtaParams),
                          ("outages", OutageParams)):
            _check(isinstance(getattr(self, name), cls), f"params.{name} must be a {cls.__name__}")
        self.han.validate("han")
        self.bridge.validate("bridge")
        self.ota.validate(max_block)
        self.outages.validate()
        _finite("wan_failure_prob", self.wan_failure_prob, 0.0, 1.0)
        _finite("wan_delay_median_s", self.wan_delay_median_s, 0.0, 1e8)
        _finite("wan_delay_sigma", self.wan_delay_sigma, 0.0, 10.0)
        _finite("activation_failure_prob", self.activation_failure_prob, 0.0, 1.0)
        if self.activation_time_s is not None:
            _finite("activation_time_s", self.activation_time_s, 0.0, 1e9)
        _finite("readback_delay_s", self.readback_delay_s, 0.0, 1e8)
        _finite("deadline_s", self.deadline_s, 0.0, 1e9)
        _check(isinstance(self.contention, bool), f"contention must be True or False, got {self.contention!r}")
        _count("han_channels", self.han_channels, 1, 16)      # 802.15.4 has 16 channels at 2.4 GHz
        _count("bridge_channels", self.bridge_channels, 1, 1000)
        if self.capture_margin_db is not None:
            _finite("capture_margin_db", self.capture_margin_db, 0.0, 100.0)
        _finite("rssi_sigma_db", self.rssi_sigma_db, 0.0, 40.0)
        if self.building_cap is not None:
            _count("building_cap", self.building_cap, 1, 2**31 - 1)
            _check(self.contention, "building_cap is a rule of the per-building engine: set contention=True "
                                    "(and give the buildings)")
        _check(self.contention_model in CONTENTION_MODELS,
               f"contention_model must be one of {CONTENTION_MODELS}, got {self.contention_model!r}")
        _finite("statistical_step_s", self.statistical_step_s, 1e-3, 86400.0)


def describe(params: EmulationParams) -> dict:
    """The parameters as a plain nested dict (for reports and reproducibility)."""
    def plain(obj):
        if hasattr(obj, "__dataclass_fields__"):
            return {f.name: plain(getattr(obj, f.name)) for f in fields(obj)}
        if isinstance(obj, tuple):
            return [plain(x) for x in obj]
        return obj
    return plain(params)
