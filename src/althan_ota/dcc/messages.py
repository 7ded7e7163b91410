"""The DUIS messages the stand-in sends: what each emulated outcome becomes on the wire, and the signed
synchronous answers. Builders are module-level functions of plain arguments, so :class:`.BulkSigner` can
build and sign them on worker processes.

DUIS's assignment of DCC Alert Codes and GBCS alert codes to these alerts was not available to the project
(docs/duis.md); the codes below are this stand-in's choice, and the user's parser reads alerts by their body.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ..duis import responses
from ..duis.identifiers import RequestId, eui, firmware_version
from ..duis.requests import xml_datetime
from ..duis.xmldsig import canonical
from .emulated import DeviceRun

# emulated second 0 (the campaign start) as the messages' timestamps give it
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
CSP_ALERT = "N42"
CH_ALERT, CH_GBCS_CODE = "N43", "8F84"
PPMID_ALERT, PPMID_GBCS_CODE = "N44", "8F85"

# why a request is refused, as the synchronous answer's code (DUIS 5.4 gives these E codes no wording here;
# the choice is documented in docs/dcc.md)
E_SIGNATURE = "E1"          # unsigned, tampered, or signed by a party the trust store does not know
E_SERVICE = "E2"            # a service this stand-in does not offer
E_WRONG_TARGET = "E13"      # a non-device request not addressed to the DSP
E_SCHEMA = "E40"            # not valid against the DUIS schema, or not a request
E_COUNTER = "E41"           # originator counter not above the user's last one
E_NO_DEVICE = "E19"         # 8.2 for a device not in the inventory
E_DEVICE_STATUS = "E5"      # 8.2 for a suspended / not commissioned / CAD-joined device
E_DEVICE_TYPE = "E11"       # 8.2 for a device that is not a PPMID


def when(t: float, epoch: datetime = EPOCH, time_scale: float = 1.0) -> datetime:
    """Emulated second ``t`` as a message's timestamp: ``epoch + t`` in deterministic mode; in wall-clock mode
    (``epoch`` the clock's origin, ``time_scale`` S) the real time at which the stand-in's clock shows ``t``,
    as a DCC stamps what it sends."""
    return epoch + timedelta(seconds=float(t) / time_scale)


def alert(kind: str, fields: dict, t: float, dsp_id: str, user_id: str, counter: int, epoch: datetime = EPOCH,
          time_scale: float = 1.0):
    """One DCC alert (unsigned root): ``kind`` csp, ch or ppmid, stamped ``when(t, epoch, time_scale)``."""
    stamp = when(t, epoch, time_scale)
    if kind == "csp":
        body, code = responses.csp_firmware_delivery_status(timestamp=stamp, **fields), CSP_ALERT
    elif kind == "ch":
        body, code = responses.comms_hub_firmware_transfer(alert_code=CH_GBCS_CODE, timestamp=stamp,
                                                            **fields), CH_ALERT
    else:
        body, code = responses.ppmid_firmware_activation(alert_code=PPMID_GBCS_CODE, timestamp=stamp,
                                                         **fields), PPMID_ALERT
    return responses.dcc_alert(code, body, stamp, dsp_id=dsp_id, user_id=user_id, counter=counter)


# Alerts as text: the stand-in sends hundreds of thousands of them, and building each tree with lxml, then
# canonicalising it for the digest, cost more than signing. Each variant of an alert (kind, and the value that
# chooses its elements) is built once by alert() with stand-in values, canonicalised, and the values filled in
# per message; Signer.sign_canonical signs that text. tests/test_dcc_alert_text.py checks the text equals the
# canonical form of alert()'s tree for the same arguments.
_PROBE_DSP, _PROBE_USER, _PROBE_COUNTER = "0A-0A-0A-0A-0A-0A-0A-01", "0A-0A-0A-0A-0A-0A-0A-02", 987_654_321_012
_PROBE_UPDATE = RequestId.make("0B-0B-0B-0B-0B-0B-0B-01", "0B-0B-0B-0B-0B-0B-0B-02", 987_654_321_013)
_PROBE_CH, _PROBE_DEVICE, _PROBE_VERSION = "0C-0C-0C-0C-0C-0C-0C-01", "0C-0C-0C-0C-0C-0C-0C-02", 0x0D0E0F07
_PROBE_TIME = datetime(2001, 2, 3, 4, 5, 6, 789_000, tzinfo=timezone.utc)
_templates: dict[tuple, tuple[str, tuple[str, ...]]] = {}


def _slot(name: str) -> str:
    return f"\0{name}\0"      # NUL cannot occur in XML text, so a slot cannot collide with the message's own text


def _template(kind: str, fields: dict) -> tuple[str, tuple[str, ...]]:
    """The canonical text of this variant of alert, with a slot for each value, and the slots' names."""
    key = (kind, fields.get("delivered"), fields.get("result"), fields.get("activated"))
    found = _templates.get(key)
    if found is None:
        probe = {k: v for k, v in fields.items() if k in ("delivered", "result", "activated")}
        probe.update(version=_PROBE_VERSION, device_id=_PROBE_DEVICE)
        if kind != "ppmid":
            probe.update(ch_id=_PROBE_CH, update_request_id=_PROBE_UPDATE)
        root = alert(kind, probe, 0.0, _PROBE_DSP, _PROBE_USER, _PROBE_COUNTER, epoch=_PROBE_TIME)
        text = canonical(root.getroottree(), exclusive=False).decode("utf-8")
        values = {"response_id": f"{_PROBE_DSP}:{_PROBE_USER}:{_PROBE_COUNTER}", "update": str(_PROBE_UPDATE),
                  "ch": _PROBE_CH, "device": _PROBE_DEVICE, "version": firmware_version(_PROBE_VERSION),
                  "time": xml_datetime(_PROBE_TIME)}
        used = tuple(name for name, value in values.items() if value in text)
        for name in used:
            text = text.replace(values[name], _slot(name))
        found = _templates[key] = (text, used)
    return found


def alert_text(kind: str, fields: dict, t: float, dsp_id: str, user_id: str, counter: int, epoch: datetime = EPOCH,
               time_scale: float = 1.0) -> bytes:
    """The C14N 1.0 text of ``alert(...)`` for the same arguments (for Signer.sign_canonical)."""
    text, used = _template(kind, fields)
    value = {"response_id": lambda: str(RequestId.make(dsp_id, user_id, counter)),
             "update": lambda: str(fields["update_request_id"]), "ch": lambda: eui(fields["ch_id"]),
             "device": lambda: eui(fields["device_id"]), "version": lambda: firmware_version(fields["version"]),
             "time": lambda: xml_datetime(when(t, epoch, time_scale))}
    for name in used:
        text = text.replace(_slot(name), value[name]())
    return text.encode("utf-8")


def device_alerts(run: DeviceRun, t0: float, request_id: RequestId, ch_id: str, old_version: int,
                  new_version: int) -> list[tuple[float, str, dict]]:
    """(emulated time, kind, fields) of every alert the device's attempt produces, in time order.

    The engine's outcome decides the last one: a WAN failure ends at the CSP; a transfer abort, a hash
    failure or success at the Comms Hub's transfer alert; activation (success or failure) at the PPMID's
    alert. A timeout sends what the device reached and then nothing: the user's own timeout sees it."""
    t, out = run.times, []
    device = run.device_id
    base = {"update_request_id": request_id}

    def at(name):
        return t0 + t[name]

    def finite(name):
        return t[name] == t[name] and abs(t[name]) != float("inf")

    if run.outcome == "not_requested":
        return out
    if run.outcome == "wan_failed":
        return [(t0 + t["t_end"], "csp", dict(update_request_id=request_id, ch_id=ch_id, device_id=device,
                                               version=new_version, delivered=False))]
    if finite("t_image"):
        out.append((at("t_image"), "csp", dict(update_request_id=request_id, ch_id=ch_id, device_id=device,
                                               version=new_version, delivered=True)))
    if run.outcome in ("aborted", "hash_failure"):
        result = "FileTransferFailure" if run.outcome == "aborted" else "FirmwareImageDiscarded"
        out.append((t0 + t["t_end"], "ch", dict(base, ch_id=ch_id, device_id=device, version=new_version,
                                                result=result)))
    elif run.outcome in ("completed", "activation_failed"):
        out.append((at("t_download_end"), "ch", dict(base, ch_id=ch_id, device_id=device, version=new_version,
                                                     result="FileTransferSuccess")))
        activated = run.outcome == "completed"
        t_act = at("t_activation") if finite("t_activation") else t0 + t["t_end"]
        out.append((t_act, "ppmid", dict(device_id=device, version=new_version if activated else old_version,
                                         activated=activated)))
    return out
