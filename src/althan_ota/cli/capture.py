"""``althan-ota capture``: write one device's OTA download as a pcap that Wireshark decodes, or chosen
installations' emulated traffic (``--installation``), or read a capture back (``capture read``) into the
transfers it carried: blocks, gaps, retries and the image hash."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..errors import ParameterError
from ._io import number_in, positive, seed

# Example keys for emulated captures only; real networks' keys never belong in a command line default.
DEFAULT_NWK_KEY = "5a6967426565416c6c69616e63653039"
DEFAULT_MAC_KEY = "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"


def _key(text: str | None, what: str) -> bytes | None:
    if text is None:
        return None
    try:
        key = bytes.fromhex(text.replace(":", "").replace(" ", ""))
    except ValueError:
        raise ParameterError(f"{what} must be hex, got {text!r}") from None
    if len(key) != 16:
        raise ParameterError(f"{what} is an AES-128 key, 16 bytes (32 hex digits); got {len(key)} bytes")
    return key


def register(sub) -> None:
    p = sub.add_parser("capture", help="write an OTA download as a pcap, or read a capture back",
                       description="Without an action: emulate one device's download of --image and write its "
                                   "frames to --out; with --installation, the frames the emulator's bytes "
                                   "fidelity sent those installations' bridges (each its own NWK key, printed). "
                                   "'capture read FILE' rebuilds the transfers from a capture.")
    p.add_argument("--image", type=Path, help="the OTA file the device downloads")
    p.add_argument("--out", type=Path, help="capture to write (.pcapng for pcapng, else pcap)")
    p.add_argument("--installation", action="append", metavar="N_OR_ID",
                   help="emulate this installation (number, or with --fleet its ID, e.g. INST-000000123); "
                        "repeatable")
    p.add_argument("--fleet", type=Path, help="fleet inventory the --installation IDs and link PERs come from")
    p.add_argument("--per", type=number_in(0.0, 1.0, below_maximum=True), help="packet error rate of the link (default 0.1; not with --installation)")
    p.add_argument("--sniffer-loss", type=number_in(0.0, 1.0, below_maximum=True), default=0.0, help="share of frames the sniffer misses")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--link", choices=["han", "bridge"], default="han",
                   help="han: ZigBee NWK security over the HAN; bridge: MAC-secured Alt HAN bridge link")
    p.add_argument("--block-size", type=positive, help="data bytes per Image Block Response (default: all that fit)")
    p.add_argument("--nwk-key", default=DEFAULT_NWK_KEY, help="ZigBee network key, hex")
    p.add_argument("--mac-key", default=DEFAULT_MAC_KEY, help="bridge link MAC key, hex (--link bridge)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=write)
    actions = p.add_subparsers(dest="capture_command", metavar="ACTION")
    r = actions.add_parser("read", help="rebuild the OTA transfers a capture carried")
    r.add_argument("capture", type=Path)
    r.add_argument("--nwk-key", action="append",
                   help="ZigBee network key, hex; repeatable (a capture of several networks or emulated devices)")
    r.add_argument("--mac-key", help="IEEE 802.15.4 MAC key (bridge link), hex")
    r.add_argument("--image-size", type=positive,
                   help="image size for transfers the capture has no Query Next Image Response for (emulated)")
    r.add_argument("--aps-key", help="APS link key, hex")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=read)


def write(args) -> int:
    from ..capture import SessionConfig, ota_session, write_pcap, write_pcapng
    from ..capture.session import max_block_size

    if args.image is None or args.out is None:
        raise ParameterError("give --image FILE and --out FILE.pcap (or 'capture read FILE')")
    try:
        image = args.image.read_bytes()
    except OSError as exc:
        raise ParameterError(f"cannot read --image: {exc}") from None
    if args.installation:
        return write_emulated(args, image)
    if args.fleet is not None:
        raise ParameterError("--fleet goes with --installation")
    nwk_key = _key(args.nwk_key, "--nwk-key")
    mac_key = _key(args.mac_key, "--mac-key") if args.link == "bridge" else None
    cfg = SessionConfig(block_size=args.block_size)
    per = 0.1 if args.per is None else args.per
    frames = ota_session(image, nwk_key=nwk_key, mac_key=mac_key, link=args.link, per=per,
                         sniffer_loss=args.sniffer_loss, seed=args.seed, config=cfg)
    writer = write_pcapng if args.out.suffix == ".pcapng" else write_pcap
    writer(args.out, [(c.time, c.psdu) for c in frames])
    lost = sum(not c.delivered for c in frames)
    summary = {"out": str(args.out), "frames": len(frames), "lost_on_link": lost, "image_bytes": len(image),
               "block_size": args.block_size or max_block_size(args.link, cfg), "link": args.link,
               "duration_s": round(frames[-1].time - frames[0].time, 3) if frames else 0.0}
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"wrote {summary['frames']} frames ({lost} lost on the link) to {args.out}: {len(image)} bytes in "
          f"{summary['block_size']}-byte blocks over {summary['duration_s']} s")
    pan = f" -d wpan.panid==0x{cfg.bridge_pan:04x},zbee_nwk -o 'uat:ieee802154_keys:\"{args.mac_key}\",\"1\",\"No hash\"'" \
        if args.link == "bridge" else ""
    print(f"open it: tshark -r {args.out} -o 'uat:zigbee_pc_keys:\"{args.nwk_key}\",\"Normal\",\"nwk\"'{pan}")
    return 0


def write_emulated(args, image: bytes) -> int:
    from ..capture import emulated_capture, write_pcap, write_pcapng

    if args.link != "han" or args.block_size is not None or args.sniffer_loss or args.per is not None:
        raise ParameterError("--installation captures the emulator's HAN frames: --link, --block-size, --per and "
                             "--sniffer-loss do not apply (link quality comes from --fleet or the defaults)")
    frames, devices = emulated_capture(image, args.installation, seed=args.seed, fleet=args.fleet)
    writer = write_pcapng if args.out.suffix == ".pcapng" else write_pcap
    writer(args.out, [(f.time, f.psdu) for f in frames])
    if args.json:
        print(json.dumps({"out": str(args.out), "frames": len(frames), "image_bytes": len(image),
                          "devices": [{"installation": d.installation, "unit_key": d.unit_key, "side": d.side,
                                       "client": d.client, "nwk_key": d.nwk_key.hex(), "outcome": d.outcome,
                                       "hash_ok": d.hash_ok, "frames": d.frames} for d in devices]}))
        return 0
    corrupted = sum(f.corrupted for f in frames)
    commands: dict[str, int] = {}
    for f in frames:
        commands[f.command] = commands.get(f.command, 0) + 1
    listed = ", ".join(f"{n:,} {name}" for name, n in sorted(commands.items(), key=lambda kv: -kv[1]))
    print(f"wrote {len(frames):,} frames ({listed}; {corrupted:,} corrupted: lost responses) of {len(devices)} devices "
          f"to {args.out}, at the times the emulator's exchange trace gives (see capture/emulated.py)")
    block_responses = Counter(f.device for f in frames if f.command == "ImageBlockResponse")
    for row, d in enumerate(devices):
        n = block_responses[row]
        print(f"  {d.installation} {d.side:10} client 0x{d.client:04x} nwk key {d.nwk_key.hex()}  "
              f"{n} block responses, {d.outcome}{'' if d.hash_ok or not d.frames else ', no good image'}")
    keys = " ".join(f"-o 'uat:zigbee_pc_keys:\"{d.nwk_key.hex()}\",\"Normal\",\"{d.installation} {d.side}\"'"
                    for d in devices if d.frames)
    print(f"open it: tshark -r {args.out} {keys}")
    print(f"read it: althan-ota capture read {args.out} --image-size {len(image)} "
          + " ".join(f"--nwk-key {d.nwk_key.hex()}" for d in devices if d.frames))
    return 0


def read(args) -> int:
    from ..capture import read_transfers
    from ..frames import Keys

    mac_key, aps_key = _key(args.mac_key, "--mac-key"), _key(args.aps_key, "--aps-key")
    keys = [Keys(nwk_key=_key(k, "--nwk-key"), mac_key=mac_key, aps_key=aps_key) for k in args.nwk_key or [None]]
    report = read_transfers(args.capture, keys, image_size=args.image_size)
    if args.json:
        print(json.dumps(report.as_dict()))
        return 0 if report.transfers and all(t.complete for t in report.transfers) else 1
    print(f"{args.capture}: {report.frames} frames, {len(report.issues)} failed checks, "
          f"{report.undecrypted} left encrypted (no key)")
    for problem in report.problems:
        print(f"  file: {problem}")
    for issue in report.issues[:10]:
        print(f"  frame {issue.index}: {issue.reason}")
    if len(report.issues) > 10:
        print(f"  ... {len(report.issues) - 10} more")
    for t in report.transfers:
        size = t.image_size if t.image_size is not None else "?"
        network = f"key {t.network + 1} " if len(keys) > 1 else ""
        print(f"{network}client 0x{t.client:04x} image {t.manufacturer:04x}/{t.image_type:04x} v{t.file_version:08x}: "
              f"{len(t.blocks)} blocks, {sum(n for _, n in t.blocks)}/{size} bytes, {len(t.gaps)} gaps, "
              f"{t.retries} retries, {t.waits} waits, upgrade end status {t.upgrade_end_status}")
        for a, b in t.gaps[:5]:
            print(f"  gap [{a}, {b})")
        print(f"  sha256 {t.sha256}" if t.sha256 else "  incomplete: no hash")
    return 0 if report.transfers and all(t.complete for t in report.transfers) else 1
