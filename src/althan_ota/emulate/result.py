"""What an emulation produced: per-device numpy columns, an Arrow view, and fleet summaries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._native._emu import OUTCOMES  # noqa: F401 (re-exported) the C engine's outcomes, by enum value (csrc/emu.h)

SIDES = ("hub_side", "meter_side")

# column -> meaning; times are seconds from the campaign start (NaN: stage not reached)
DEVICE_COLUMNS = {
    "outcome": "outcome code, an index into OUTCOMES",
    "new_version": "1 if the new version runs (read back), 0 if the old one does",
    "t_image": "image delivered to the CH over the WAN",
    "t_download_start": "first Image Block Request",
    "t_download_end": "last Image Block Response received",
    "t_activation": "image activated (after Upgrade End)",
    "t_readback": "running version read back (SRV 11.2)",
    "exchanges": "OTA data exchanges started (blocks, repeats and Upgrade End; not the notify, the query or "
                 "WAIT_FOR_DATA answers)",
    "exchange_retries": "exchanges repeated (lost, or cut by an outage)",
    "link_retries_han": "link-layer retransmissions on the HAN",
    "link_retries_bridge": "link-layer retransmissions on the bridge link",
    "frames_han": "frames sent on the HAN (data attempts and acknowledgements)",
    "frames_bridge": "frames sent on the bridge link",
    "airtime_han": "seconds on air on the HAN",
    "airtime_bridge": "seconds on air on the bridge link",
    "dc_wait": "seconds spent waiting for the bridge duty cycle",
    "t_end": "when the outcome was known: read-back, abort, WAN failure or the deadline",
}

# per-device columns of the bytes fidelity only (althan_ota.emulate.bytes)
BYTES_COLUMNS = {
    "frames_built": "Image Block Responses built and sent (deliveries and corrupted repeats)",
    "frames_rejected_fcs": "frames the receiver dropped for a bad FCS (CRC-16/KERMIT)",
    "frames_rejected_mic": "frames with a good FCS dropped for a bad NWK MIC (or an unusable header / counter)",
    "undetected_errors": "corrupted frames that passed FCS and MIC (their data went into the image)",
    "hash_ok": "1 if the device reassembled the whole image and its SHA-256 matched",
    "image_corrupted": "1 if the device's CH served a corrupted copy of the image",
}


@dataclass(frozen=True)
class FleetSummary:
    devices: int
    outcomes: dict[str, int]
    outcomes_by_side: dict[str, dict[str, int]]
    out_of_sync_pairs: int       # installations whose two bridges end up running different versions
    completion_quantiles_s: dict[float, float]
    last_completion_s: float
    airtime_han_s: float
    airtime_bridge_s: float
    dc_wait_s: float
    exchange_retries: int
    link_retries_han: int
    link_retries_bridge: int


class EmulationResult:
    """Per-device results of :func:`althan_ota.emulate.emulate`. Device row ``2*k + s`` is side ``s`` (0 hub-side,
    1 meter-side) of the k-th installation emulated; each column of DEVICE_COLUMNS is an attribute (numpy
    array), as are ``installation``, ``side``, and the per-installation ``han_per`` / ``bridge_per`` used."""

    def __init__(self, columns: dict[str, np.ndarray], first_installation: int, image_size: int, params, seed: int,
                 installation_keys: np.ndarray | None = None):
        self._cols = columns
        n = columns["han_per"].shape[0]
        keys = np.arange(first_installation, first_installation + n, dtype=np.int64) if installation_keys is None \
            else installation_keys.astype(np.int64)
        self.installation = np.repeat(keys, 2)
        self.side = np.tile(np.array([0, 1], dtype=np.uint8), n)
        self.image_size = image_size
        self.params = params
        self.seed = seed
        self.byte_pass = None       # bytes fidelity: the byte pass, for device_frames()
        self.trace = None           # emulate(..., trace=True): an emulate.trace.ExchangeTrace

    def device_frames(self, row: int, first: int = 0, count: int = 16, offsets: bool = False) -> tuple:
        """Bytes fidelity: frames first .. first + count - 1 that device ``row`` was sent (PSDUs with FCS, as on
        the air) and a uint8 mask of the corrupted ones; with ``offsets`` also a uint32 array of the file offset
        each frame carries. Its NWK key: ``emulate.bytes.device_key``."""
        if self.byte_pass is None:
            raise AttributeError("device_frames needs a result of fidelity='bytes'")
        return self.byte_pass.device_frames(row, first, count, offsets)

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("_cols", {})
        if name in cols:
            return cols[name]
        raise AttributeError(name)

    def __len__(self) -> int:
        return self.side.shape[0]

    @property
    def han_per(self) -> np.ndarray:
        return self._cols["han_per"]

    @property
    def bridge_per(self) -> np.ndarray:
        return self._cols["bridge_per"]

    def reasons(self) -> np.ndarray:
        """Outcome names per device."""
        return np.asarray(OUTCOMES, dtype=object)[self._cols["outcome"]]

    def to_arrow(self):
        """A pyarrow Table with one row per device (outcome as a dictionary-encoded string)."""
        import pyarrow as pa

        cols = {"installation": self.installation, "side": pa.DictionaryArray.from_arrays(
            pa.array(self.side.astype(np.int8)), pa.array(SIDES))}
        for name in [*DEVICE_COLUMNS, *(c for c in BYTES_COLUMNS if c in self._cols)]:
            arr = self._cols[name]
            if name == "outcome":
                cols[name] = pa.DictionaryArray.from_arrays(pa.array(arr.astype(np.int8)), pa.array(OUTCOMES))
            elif name in ("new_version", "hash_ok", "image_corrupted"):
                cols[name] = pa.array(arr.astype(bool))
            elif name.startswith("t_"):
                cols[name] = pa.array(arr, from_pandas=True)   # NaN -> null: stage not reached
            else:
                cols[name] = arr
        cols["han_per"] = np.repeat(self.han_per, 2)
        cols["bridge_per"] = np.repeat(self.bridge_per, 2)
        return pa.table(cols)

    def summary(self, quantiles=(0.5, 0.9, 0.99, 1.0)) -> FleetSummary:
        """Fleet totals: outcome counts (overall and per side), out-of-sync pairs, completion-time quantiles
        (read-back time of the devices now running the new version), airtime and retries."""
        c = self._cols
        counts = np.bincount(c["outcome"], minlength=len(OUTCOMES))
        by_side = {side: dict(zip(OUTCOMES, map(int, np.bincount(c["outcome"][k::2], minlength=len(OUTCOMES)))))
                   for k, side in enumerate(SIDES)}
        version = c["new_version"]
        done = c["t_readback"][c["new_version"] == 1]
        qs = {float(q): float(np.quantile(done, q)) if done.size else float("nan") for q in quantiles}
        return FleetSummary(
            devices=len(self), outcomes={name: int(k) for name, k in zip(OUTCOMES, counts)},
            outcomes_by_side=by_side, out_of_sync_pairs=int(np.count_nonzero(version[0::2] != version[1::2])),
            completion_quantiles_s=qs, last_completion_s=float(done.max()) if done.size else float("nan"),
            airtime_han_s=float(c["airtime_han"].sum()), airtime_bridge_s=float(c["airtime_bridge"].sum()),
            dc_wait_s=float(c["dc_wait"].sum()), exchange_retries=int(c["exchange_retries"].sum(dtype=np.int64)),
            link_retries_han=int(c["link_retries_han"].sum(dtype=np.int64)),
            link_retries_bridge=int(c["link_retries_bridge"].sum(dtype=np.int64)))

    def __repr__(self) -> str:
        s = self.summary()
        return (f"EmulationResult({s.devices} devices, image {self.image_size} B, seed {self.seed}: "
                f"{s.outcomes})")
