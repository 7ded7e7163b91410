"""A seeded synthetic fleet with the mixes a real Alt HAN estate has: blocks of flats with many
Communications Hubs, several bridge manufacturers and models, firmware spread over a few releases, link
quality at the edge of coverage, and the awkward cases (bridges joined as CAD, suspended and decommissioned
devices, gas-only or electricity-only premises).

All names are fictional. Everything is drawn column-wise with numpy, so millions of devices take seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ParameterError
from . import ids
from .inventory import Fleet
from .schema import COLUMNS, HUB_SIDE, JOINED_AS_CAD, JOINED_AS_PPMID, METER_SIDE, OPTIONAL, PPMID, SMI_STATUSES


@dataclass(frozen=True)
class ModelMix:
    manufacturer: str
    oui: int                      # IEEE OUI that prefixes the device EUI-64s
    hub_model: str
    meter_model: str
    share: float                  # of installations
    hardware_versions: tuple[int, ...]
    hardware_weights: tuple[float, ...]
    firmware_versions: tuple[int, ...]   # oldest first
    firmware_weights: tuple[float, ...]


DEFAULT_MIX = (
    ModelMix("Northbridge Radio", 0x70B3D5, "NB-P2P-H2", "NB-P2P-M2", 0.46, (1, 2), (0.3, 0.7),
             (0x01020000, 0x01030000, 0x01030100), (0.08, 0.32, 0.60)),
    ModelMix("Cardinal Metering Links", 0x001BC5, "CML-AH-HUB", "CML-AH-MTR", 0.34, (3, 4, 5), (0.2, 0.5, 0.3),
             (0x00050003, 0x00060001), (0.35, 0.65)),
    ModelMix("Tamar Telemetry", 0x0004A3, "TT-LINK-H", "TT-LINK-M", 0.20, (1,), (1.0,),
             (0x20190410, 0x20210902, 0x20230117), (0.15, 0.25, 0.60)),
)
SUPPLIERS = (("Albion Energy", 0.31), ("Severn Power", 0.24), ("Pennine Gas & Electric", 0.18),
             ("Fenland Energy", 0.15), ("Clyde Supply Co", 0.12))
CH_OUI = 0x00DB12   # the prefix the Communications Hub IDs share in this synthetic estate


def _check_arguments(n_installations, seed, **shares) -> None:
    for name, value in (("n_installations", n_installations), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ParameterError(f"{name} must be an integer >= 0, got {value!r}")
    for name, value in shares.items():
        limit = None if name == "standard_ppmids" else 1.0
        if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value >= 0
                and (limit is None or value < limit)):
            raise ParameterError(f"{name} must be a number >= 0" + ("" if limit is None else " and < 1")
                                 + f", got {value!r}")


def generate_fleet(n_installations: int, seed: int = 0, *, standard_ppmids: float = 0.05,
                   cad_joined: float = 0.03, suspended: float = 0.01, decommissioned: float = 0.005,
                   mean_han_per: float = 0.02, mean_bridge_per: float = 0.10,
                   mix: tuple[ModelMix, ...] = DEFAULT_MIX) -> Fleet:
    """``n_installations`` P2P installations (two bridges each) plus ``standard_ppmids`` × that many plain
    PPMIDs, in buildings of 1 to a few dozen premises. Returns a validated Fleet."""
    _check_arguments(n_installations, seed, standard_ppmids=standard_ppmids, cad_joined=cad_joined,
                     suspended=suspended, decommissioned=decommissioned, mean_han_per=mean_han_per,
                     mean_bridge_per=mean_bridge_per)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xA17]))
    n_inst = int(n_installations)
    n_plain = int(round(n_installations * standard_ppmids))
    n_premises = n_inst + n_plain

    building = _buildings(rng, n_premises)
    supplier = rng.choice(len(SUPPLIERS), n_premises, p=_norm([w for _, w in SUPPLIERS]))
    ch = (np.uint64(CH_OUI) << np.uint64(40)) | _scramble(np.arange(n_premises, dtype=np.uint64), seed)
    has_gas = rng.random(n_premises) > 0.25
    has_elec = (rng.random(n_premises) > 0.04) | ~has_gas
    mpan = _mpans(rng, n_premises)
    mprn = rng.integers(10**9, 10**10, n_premises)
    han_per = _beta_with_mean(rng, mean_han_per, 20.0, n_premises)
    bridge_per = _beta_with_mean(rng, mean_bridge_per, 12.0, n_premises)

    # premises [0, n_inst) hold an Alt HAN pair (hub-side row, then meter-side row); the rest a plain PPMID
    premises = np.concatenate([np.repeat(np.arange(n_inst), 2), np.arange(n_inst, n_premises)])
    variant = np.concatenate([np.tile(np.array([1, 2], dtype=np.int8), n_inst), np.zeros(n_plain, np.int8)])
    n = len(premises)
    take_premises = pa.array(premises)

    maker_of_premises = rng.choice(len(mix), n_premises, p=_norm([m.share for m in mix]))
    maker = maker_of_premises[premises]
    models = [name for m in mix for name in (m.manufacturer + "-PPMID", m.hub_model, m.meter_model)]
    hardware = np.empty(n, dtype=np.uint16)
    firmware = np.empty(n, dtype=np.uint32)
    for k, m in enumerate(mix):
        rows = maker == k
        hardware[rows] = rng.choice(m.hardware_versions, rows.sum(), p=_norm(m.hardware_weights))
        firmware[rows] = rng.choice(np.array(m.firmware_versions, dtype=np.uint32), rows.sum(),
                                    p=_norm(m.firmware_weights))
    # most pairs run the same release; a rollout that missed one side leaves the two apart
    same = rng.random(n_inst) < 0.93
    firmware[2 * np.flatnonzero(same) + 1] = firmware[2 * np.flatnonzero(same)]

    oui = np.array([m.oui for m in mix], dtype=np.uint64)[maker]
    device = (oui << np.uint64(40)) | _scramble(np.arange(n, dtype=np.uint64), seed + 1)
    del oui
    cad = (rng.random(n_premises) < cad_joined)[premises].astype(np.int8)
    roll = rng.random(n_premises)[premises]
    status = np.full(n, SMI_STATUSES.index("Commissioned"), dtype=np.int8)
    status[roll < suspended + decommissioned] = SMI_STATUSES.index("Suspended")
    status[roll < decommissioned] = SMI_STATUSES.index("Decommissioned")
    status[roll > 1 - 0.004] = SMI_STATUSES.index("InstalledNotCommissioned")
    del roll

    def pick(names, index) -> pa.Array:
        return pc.take(pa.array(list(names), pa.string()), pa.array(index))

    def per_premises(values: pa.Array) -> pa.Array:
        return pc.take(values, take_premises)

    # The columns are built as the importer's validation (inventory.validate) would leave them -- canonical
    # text, the schema's types -- so the fleet skips it: validating 4 M generated rows held every column
    # twice (2.5 GB at 2 M installations). tests/test_fleet.py checks that validation leaves them unchanged.
    # Text is formatted by the C kernels once per premises and then repeated per device, never through
    # numpy digit matrices.
    installation = pc.binary_join_element_wise("INST-", ids.format_decimal(np.arange(n_inst), 9), "")
    columns = {
        "device_id": ids.format_eui64(device),
        "device_type": pick(("PPMID", "CAD"), cad),
        "ppmid_variant": pick((PPMID, HUB_SIDE, METER_SIDE), variant),
        "manufacturer": pick([m.manufacturer for m in mix], maker),
        "model": pick(models, 3 * maker + variant),
        "hardware_version": pa.array(hardware),
        "firmware_version": pa.array(firmware),
        "smi_status": pick(SMI_STATUSES, status),
        "join_mode": pick((JOINED_AS_PPMID, JOINED_AS_CAD), cad),
        "ch_id": ids.format_eui64(ch[premises]),
        "mpan": per_premises(ids.format_decimal(mpan, 13, has_elec)),
        "mprn": per_premises(ids.format_decimal(mprn, 10, has_gas)),
        "installation_id": pc.take(installation, pa.array(np.where(variant == 0, 0, premises), mask=variant == 0)),
        "supplier": pick([name for name, _ in SUPPLIERS], supplier[premises]),
        "building_id": per_premises(pc.binary_join_element_wise("B", ids.format_decimal(building, 7), "")),
        "han_per": pa.array(han_per[premises]),
        "bridge_per": pa.array(bridge_per[premises]),
        "source_line": pa.array(np.arange(1, n + 1, dtype=np.int64)),
    }
    order = [*COLUMNS, *OPTIONAL, "source_line"]
    table = pa.table({name: columns[name] for name in order}).cast(
        pa.schema([(name, COLUMNS.get(name) or OPTIONAL.get(name) or pa.int64()) for name in order]))
    return Fleet(table=table, source=f"synthetic(seed={seed})")


def _norm(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _scramble(index: np.ndarray, seed: int) -> np.ndarray:
    """A bijection on 40-bit integers, so IDs look random yet never collide."""
    mask = np.uint64((1 << 40) - 1)
    x = (index * np.uint64(0x9E3779B97) + np.uint64(seed * 7919)) & mask
    return (x ^ (x >> np.uint64(17))) & mask


def _buildings(rng: np.random.Generator, n_premises: int) -> np.ndarray:
    """Building of each premises: Alt HAN sits in blocks of flats, so sizes run from 1 to ~80."""
    sizes = np.minimum(1 + rng.geometric(0.08, size=max(1, n_premises // 4 + 1)), 80)
    building = np.repeat(np.arange(len(sizes)), sizes)
    while len(building) < n_premises:
        building = np.concatenate([building, building[-1] + 1 + np.arange(n_premises - len(building))])
    return building[:n_premises]


def _mpans(rng: np.random.Generator, n: int, chunk: int = 1 << 18) -> np.ndarray:
    """13-digit MPAN cores (12 digits and the check digit) as integers. The check digit needs each core's
    digits: taken a chunk at a time, so the digit matrix stays a few MB however large the fleet."""
    core = rng.integers(10, 24, n) * 10**10 + rng.integers(0, 10**10, n)   # distributor ID + unique number
    powers = 10 ** np.arange(11, -1, -1, dtype=np.int64)
    for lo in range(0, n, chunk):
        part = core[lo:lo + chunk]
        core[lo:lo + chunk] = part * 10 + ids.mpan_check_digit((part[:, None] // powers) % 10)
    return core


def _beta_with_mean(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    values = rng.beta(mean * concentration, (1 - mean) * concentration, n)
    return np.minimum(values, 0.6).astype(np.float32)
