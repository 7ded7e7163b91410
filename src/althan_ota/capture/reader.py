"""Rebuild what OTA transfers carried from a capture: per client, the image's blocks in order, the gaps, the
retries (offsets served more than once), and the SHA-256 of the reassembled image."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

from .. import frames as F
from ..checksum import sha256
from ..errors import ParameterError
from .pcap import Capture, read_capture


@dataclass
class FrameIssue:
    index: int          # 1-based, as Wireshark numbers frames
    time: float
    reason: str


@dataclass
class Transfer:
    """One client's download of one image, as far as the capture shows it."""
    client: int                         # NWK short address of the device
    manufacturer: int
    image_type: int
    file_version: int
    image_size: int | None = None       # from the Query Next Image Response, when captured
    blocks: list[tuple[int, int]] = field(default_factory=list)     # (offset, size), in offset order
    gaps: list[tuple[int, int]] = field(default_factory=list)       # [start, end) not carried by any block
    requests: int = 0                   # Image Block Requests
    responses: int = 0                  # Image Block Responses with data
    retries: int = 0                    # responses repeating an offset already served
    retried_offsets: list[int] = field(default_factory=list)
    waits: int = 0                      # WAIT_FOR_DATA responses
    conflicts: list[int] = field(default_factory=list)  # offsets served twice with different bytes
    network: int = 0                    # index of the key set that decrypted it (several networks' keys given)
    upgrade_end_status: int | None = None
    sha256: str | None = None           # of the reassembled image, when complete
    _data: dict = field(default_factory=dict, repr=False)

    @property
    def complete(self) -> bool:
        return self.image_size is not None and not self.gaps and not self.conflicts

    def image(self) -> bytes | None:
        return _assemble(self) if self.complete else None

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        d["complete"] = self.complete
        return d


@dataclass
class CaptureReport:
    frames: int
    link_type: int
    transfers: list[Transfer]
    issues: list[FrameIssue]            # frames that failed FCS, MIC, replay or parsing
    undecrypted: int = 0                # frames left encrypted for lack of a key
    problems: list[str] = field(default_factory=list)   # file-level: truncated records

    def as_dict(self) -> dict:
        return {"frames": self.frames, "link_type": self.link_type, "undecrypted": self.undecrypted,
                "problems": self.problems, "issues": [asdict(i) for i in self.issues],
                "transfers": [t.as_dict() for t in self.transfers]}


def read_transfers(source, keys: F.Keys | Sequence[F.Keys], image_size: int | None = None) -> CaptureReport:
    """Read a capture (path, bytes or a :class:`Capture`) and rebuild its OTA transfers.

    ``keys``: one :class:`~althan_ota.frames.Keys`, or one per network (device) for a capture of several, e.g.
    an emulated one where every device has its own NWK key. Each frame is decrypted with the first key set
    whose MICs it passes; frame counters are checked per key set. ``image_size``: the size of the image for
    transfers whose capture holds no Query Next Image Response (e.g. an emulated capture with
    ``requests=False``, or one whose query was lost), so that they can be complete and hashed."""
    cap = source if isinstance(source, Capture) else read_capture(source)
    key_sets = [keys] if isinstance(keys, F.Keys) else list(keys)
    if not key_sets or not all(isinstance(k, F.Keys) for k in key_sets):
        raise ParameterError("keys must be a Keys or a non-empty sequence of Keys")
    if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int) or
                                   not 0 < image_size < 1 << 32):
        raise ParameterError(f"image_size is 1 byte to 4 GiB, got {image_size!r}")
    whole = [rec for rec in cap.records if not rec.truncated]
    decoded = _decode(whole, key_sets, cap.has_fcs)
    transfers: dict[tuple, Transfer] = {}
    issues: list[FrameIssue] = []
    undecrypted = 0
    results = iter(decoded)
    for i, rec in enumerate(cap.records, 1):
        if rec.truncated:
            issues.append(FrameIssue(i, rec.time, f"captured {len(rec.data)} of {rec.original_length} bytes"))
            continue
        network, result = next(results)
        if not result.ok:
            issues.append(FrameIssue(i, rec.time, _reason(result)))
            continue
        if "no-key" in (result.mac_security, result.nwk_security, result.aps_security):
            undecrypted += 1
            continue
        f = result.frame
        if f.ota is None or f.nwk is None:
            continue
        client = f.nwk.src if not f.ota.SERVER_TO_CLIENT else f.nwk.dst
        _account(transfers, network, client, f.ota)
    for t in transfers.values():
        if t.image_size is None and image_size is not None:
            t.image_size = image_size
        _finish(t)
    ordered = sorted(transfers.values(), key=lambda t: t.network)     # stable: first seen within a network
    return CaptureReport(len(cap.records), cap.link_type, ordered, issues, undecrypted,
                         list(cap.problems))


def _decode(records, key_sets: list[F.Keys], fcs: bool) -> list[tuple[int, F.Parsed]]:
    """(key set index, parse) per record: each key set in turn over the frames no earlier one decrypted (one C
    call per key set), frames failing a MIC under every key set keep the last one's verdict."""
    decoded: list = [None] * len(records)
    pending = list(range(len(records)))
    for network, keys in enumerate(key_sets):
        receiver = F.Receiver(keys)
        parsed = receiver.receive_many([records[i].data for i in pending], fcs=fcs)
        last = network == len(key_sets) - 1
        still = []
        for i, result in zip(pending, parsed):
            if not last and "bad-mic" in (result.mac_security, result.nwk_security, result.aps_security):
                still.append(i)
            else:
                decoded[i] = (network, result)
        pending = still
    return decoded


def _reason(result: F.Parsed) -> str:
    if result.fcs_ok is False:
        return "bad FCS"
    if result.error:
        return f"malformed: {result.error}"
    for layer in ("mac", "nwk", "aps"):
        if getattr(result, f"{layer}_security") == "bad-mic":
            return f"bad {layer.upper()} MIC (wrong key or corrupted)"
    return "replayed frame counter"


def _transfer(transfers: dict, network: int, client: int, ota) -> Transfer:
    key = (network, client, ota.manufacturer, ota.image_type, ota.file_version)
    t = transfers.get(key)
    if t is None:
        t = transfers[key] = Transfer(client, ota.manufacturer, ota.image_type, ota.file_version,
                                      network=network)
    return t


def _account(transfers: dict, network: int, client: int, ota) -> None:
    if isinstance(ota, F.QueryNextImageResponse) and ota.status == F.SUCCESS:
        _transfer(transfers, network, client, ota).image_size = ota.image_size
    elif isinstance(ota, F.ImageBlockRequest):
        _transfer(transfers, network, client, ota).requests += 1
    elif isinstance(ota, F.ImageBlockResponse):
        if ota.status == F.WAIT_FOR_DATA:
            # WAIT_FOR_DATA carries no image id: count it against the client's latest transfer
            for t in reversed(list(transfers.values())):
                if t.client == client and t.network == network:
                    t.waits += 1
                    break
            return
        if ota.status != F.SUCCESS:
            return
        t = _transfer(transfers, network, client, ota)
        t.responses += 1
        seen = t._data.get(ota.file_offset)
        if seen is not None:
            t.retries += 1
            t.retried_offsets.append(ota.file_offset)
            if seen != ota.data and ota.file_offset not in t.conflicts:
                t.conflicts.append(ota.file_offset)
        else:
            t._data[ota.file_offset] = ota.data
    elif isinstance(ota, F.UpgradeEndRequest):
        _transfer(transfers, network, client, ota).upgrade_end_status = ota.status


def _finish(t: Transfer) -> None:
    t.blocks = sorted((off, len(data)) for off, data in t._data.items())
    end = t.image_size if t.image_size is not None else max((o + n for o, n in t.blocks), default=0)
    pos = 0
    gaps = []
    for off, n in t.blocks:
        if off > pos:
            gaps.append((pos, off))
        pos = max(pos, off + n)
    if pos < end:
        gaps.append((pos, end))
    t.gaps = gaps
    if t.complete and pos == end:
        image = _assemble(t)
        t.sha256 = sha256(image).hex() if image is not None else None


def _assemble(t: Transfer) -> bytes | None:
    """The image from its blocks; overlapping blocks must agree where they overlap."""
    buf = bytearray(t.image_size)
    for off, n in t.blocks:
        data = t._data[off]
        if off + n > t.image_size:
            t.conflicts.append(off)
            return None
        buf[off:off + n] = data
    return bytes(buf)
