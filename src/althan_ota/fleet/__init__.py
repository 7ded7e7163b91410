"""Fleet inventory: import SMI / AHI / supplier extracts or generate a synthetic fleet; one validated row per
device, the two bridges of each P2P installation linked, every bad row quarantined with its line and reason."""

from .inventory import QUARANTINE_SCHEMA, Fleet, read_fleet, validate
from .schema import (BRIDGE_VARIANTS, COLUMNS, HUB_SIDE, JOIN_MODES, JOINED_AS_CAD, JOINED_AS_PPMID,
                     METER_SIDE, PPMID, SMI_STATUSES, VARIANTS)
from .synthetic import DEFAULT_MIX, ModelMix, generate_fleet

__all__ = ["BRIDGE_VARIANTS", "COLUMNS", "DEFAULT_MIX", "Fleet", "HUB_SIDE", "JOIN_MODES", "JOINED_AS_CAD",
           "JOINED_AS_PPMID", "METER_SIDE", "ModelMix", "PPMID", "QUARANTINE_SCHEMA", "SMI_STATUSES",
           "VARIANTS", "generate_fleet", "read_fleet", "validate"]
