"""The fleet inventory's columns and vocabularies, and the spellings accepted for them in extracts."""

from __future__ import annotations

import re

import pyarrow as pa

# PPMID variant: the SMI attribute MP170 adds so that suppliers and the DCC can tell Alt HAN bridges apart.
PPMID = "PPMID"
HUB_SIDE = "ALTHAN_P2P_HUB"
METER_SIDE = "ALTHAN_P2P_METER"
VARIANTS = (PPMID, HUB_SIDE, METER_SIDE)
BRIDGE_VARIANTS = (HUB_SIDE, METER_SIDE)

# SMI status values (SEC Section H / SMI Enrolment and Decommissioning Procedures).
SMI_STATUSES = ("Pending", "Whitelisted", "InstalledNotCommissioned", "Commissioned", "Decommissioned",
                "Withdrawn", "Suspended", "Recovery", "Recovered")

# How the bridge joined the HAN: only a device joined as PPMID can take firmware through SRV 11.4.
JOINED_AS_PPMID = "PPMID"
JOINED_AS_CAD = "CAD"
JOIN_MODES = (JOINED_AS_PPMID, JOINED_AS_CAD)

# column -> Arrow type of the validated fleet table
COLUMNS: dict[str, pa.DataType] = {
    "device_id": pa.string(),          # EUI-64, 00-DB-12-34-56-78-90-A0
    "device_type": pa.string(),        # SMI device type, e.g. PPMID or CAD (Type 2)
    "ppmid_variant": pa.string(),      # one of VARIANTS
    "manufacturer": pa.string(),
    "model": pa.string(),
    "hardware_version": pa.uint16(),
    "firmware_version": pa.uint32(),   # 4-octet identifier; shown as 0x0102A0B3
    "smi_status": pa.string(),         # one of SMI_STATUSES
    "join_mode": pa.string(),          # one of JOIN_MODES
    "ch_id": pa.string(),              # Communications Hub Function ID (EUI-64)
    "mpan": pa.string(),               # 13-digit core, or null
    "mprn": pa.string(),               # 6-10 digits, or null
    "installation_id": pa.string(),    # links the two bridges of a P2P installation; null for a plain PPMID
    "supplier": pa.string(),
}
REQUIRED = ("device_id", "ppmid_variant", "manufacturer", "model", "firmware_version", "smi_status",
            "join_mode", "ch_id", "supplier")
# optional columns carried through when present: where the premises is, and its measured link quality
OPTIONAL: dict[str, pa.DataType] = {
    "building_id": pa.string(),
    "han_per": pa.float32(),
    "bridge_per": pa.float32(),
}

_VARIANT_SPELLINGS = {
    PPMID: ("ppmid", "standard", "standard ppmid", "standardppmid"),
    HUB_SIDE: ("althan_p2p_hub", "alt han p2p hub-side", "althan p2p hub", "hub-side", "hub side", "hub",
               "p2p hub-side", "alt han p2p hub"),
    METER_SIDE: ("althan_p2p_meter", "alt han p2p meter-side", "althan p2p meter", "meter-side", "meter side",
                 "meter", "p2p meter-side", "alt han p2p meter"),
}


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


VARIANT_LOOKUP = {_key(s): code for code, spellings in _VARIANT_SPELLINGS.items() for s in (code, *spellings)}
STATUS_LOOKUP = {_key(s): s for s in SMI_STATUSES}
JOIN_LOOKUP = {_key(s): s for s in JOIN_MODES} | {_key("joined as CAD"): JOINED_AS_CAD,
                                                  _key("joined as PPMID"): JOINED_AS_PPMID}

_HEADER_ALIASES = {
    "deviceid": "device_id", "device": "device_id", "eui64": "device_id", "deviceeui64": "device_id",
    "devicetype": "device_type", "type": "device_type",
    "ppmidvariant": "ppmid_variant", "variant": "ppmid_variant",
    "manufacturer": "manufacturer", "manufacturername": "manufacturer",
    "model": "model", "devicemodel": "model", "modelid": "model",
    "hardwareversion": "hardware_version", "hwversion": "hardware_version",
    "firmwareversion": "firmware_version", "fwversion": "firmware_version", "runningfirmware": "firmware_version",
    "smistatus": "smi_status", "status": "smi_status", "devicestatus": "smi_status",
    "joinmode": "join_mode", "joinedas": "join_mode", "hanjoin": "join_mode",
    "chid": "ch_id", "commshubid": "ch_id", "communicationshubid": "ch_id", "chfid": "ch_id",
    "mpan": "mpan", "mprn": "mprn",
    "installationid": "installation_id", "installation": "installation_id", "pairid": "installation_id",
    "supplier": "supplier", "supplierid": "supplier",
    "buildingid": "building_id", "building": "building_id",
    "hanper": "han_per", "bridgeper": "bridge_per",
}


def canonical_header(name: str) -> str | None:
    """Map an extract's column header to our column name (None if we do not know it)."""
    return _HEADER_ALIASES.get(_key(name))


def normalise_key(text: str) -> str:
    return _key(text)
