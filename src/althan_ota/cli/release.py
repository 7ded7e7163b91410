"""``althan-ota release``: pack, verify and show Alt HAN Co release bundles (and write a demo one)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import ParameterError
from ._io import positive, seed
from ._io import read_file as _read


def register(sub) -> None:
    p = sub.add_parser("release", help="pack, verify and show signed release bundles")
    cmds = p.add_subparsers(dest="release_command", metavar="ACTION", required=True)

    k = cmds.add_parser("pack", help="write a signed release bundle")
    k.add_argument("-o", "--output", required=True)
    k.add_argument("--release-id", required=True)
    k.add_argument("--date", required=True, help="release date, YYYY-MM-DD")
    k.add_argument("--environment", required=True, choices=["test", "production"])
    k.add_argument("--key", required=True, help="Alt HAN Co's release signing key (PEM, P-256)")
    k.add_argument("--notes", required=True, help="release notes (UTF-8 text file)")
    k.add_argument("--cpl", required=True, help="the images' CPL entries, JSON or CSV (as image verify)")
    k.add_argument("--image", action="append", required=True, metavar="SIDE:MANUFACTURER:MODEL:FILE",
                   help="an image and what it is for, e.g. 'hub:Northbridge Radio:NB-P2P-H2:hub.bin' "
                        "(repeatable)")
    k.add_argument("--upgrade-path", action="append", default=[], metavar="FROM:TO",
                   help="a running version that may take a released one, e.g. 0x01030100:0x01040000")
    k.add_argument("--compatible", action="append", default=[], metavar="HUB:METER",
                   help="a hub-side version and a meter-side version that work together (repeatable)")
    k.set_defaults(handler=pack)

    v = cmds.add_parser("verify", help="verify a bundle for an environment; exit 1 if it is refused")
    v.add_argument("bundle")
    v.add_argument("--environment", required=True, choices=["test", "production"],
                   help="the environment the bundle must be for")
    v.add_argument("--trusted-key", action="append", required=True, metavar="PEM",
                   help="a trusted release public key, or a directory of .pem files (repeatable)")
    v.add_argument("--manufacturer-key", action="append", default=[], metavar="[MANUFACTURER=]PEM",
                   help="verify GB image signatures of that manufacturer (all, without MANUFACTURER=)")
    v.add_argument("--cpl", help="also check every image against this CPL (JSON or CSV)")
    v.add_argument("--json", action="store_true")
    v.set_defaults(handler=verify)

    s = cmds.add_parser("show", help="list what a bundle declares, without verifying it")
    s.add_argument("bundle")
    s.add_argument("--json", action="store_true", help="print manifest.json as stored")
    s.set_defaults(handler=show)

    d = cmds.add_parser("demo", help="write a demo bundle signed with PUBLICLY KNOWN test keys, and the keys")
    d.add_argument("directory")
    d.add_argument("--environment", choices=["test", "production"], default="test")
    d.add_argument("--seed", type=seed, default=0)
    d.add_argument("--image-size", type=positive, default=240_000, help="Manufacturer Image bytes per side")
    d.set_defaults(handler=demo)


def _version(text: str, what: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise ParameterError(f"{what}: {text!r} is not a version (e.g. 0x01040000)") from None
    if not 0 <= value <= 0xFFFFFFFF:
        raise ParameterError(f"{what}: {text!r} is not a 4-octet version")
    return value


def _pairs(specs: list[str], option: str) -> list[tuple[int, int]]:
    pairs = []
    for spec in specs:
        left, sep, right = spec.partition(":")
        if not sep:
            raise ParameterError(f"{option} takes A:B, not {spec!r}")
        pairs.append((_version(left, option), _version(right, option)))
    return pairs


def pack(args) -> int:
    from ..image import load_cpl
    from ..release import ImageInput
    from ..release import pack as pack_bundle

    images = []
    for spec in args.image:
        parts = spec.split(":", 3)
        if len(parts) != 4 or not all(parts):
            raise ParameterError(f"--image takes SIDE:MANUFACTURER:MODEL:FILE, not {spec!r}")
        side, manufacturer, model, file = parts
        images.append(ImageInput(_read(file), side, manufacturer, model))
    manifest = pack_bundle(args.output, images=images, notes=Path(args.notes), release_id=args.release_id,
                           release_date=args.date, environment=args.environment, cpl=load_cpl(args.cpl),
                           signing_key=_read(args.key), upgrade_paths=_pairs(args.upgrade_path, "--upgrade-path"),
                           compatibility=_pairs(args.compatible, "--compatible"))
    print(f"wrote {args.output}: release {manifest.release_id} ({manifest.environment}), "
          f"{len(manifest.images)} images, signed by key {manifest.signing_key_id}")
    print(f"bundle sha256 {hashlib.sha256(_read(args.output)).hexdigest()}")
    return 0


def verify(args) -> int:
    from ..image import format_version, load_cpl
    from ..release import verify_bundle

    manufacturer_keys = {}
    for spec in args.manufacturer_key:
        name, sep, path = spec.rpartition("=")
        manufacturer_keys[name if sep else None] = _read(path)
    trusted = [Path(p) for p in args.trusted_key]
    release = verify_bundle(args.bundle, args.environment, trusted, manufacturer_keys=manufacturer_keys or None,
                            cpl=load_cpl(args.cpl) if args.cpl else None)
    digest = hashlib.sha256(_read(args.bundle)).hexdigest()
    images = [{"file": r.file, "side": r.side, "manufacturer": r.manufacturer, "model": r.model,
               "file_version": format_version(r.file_version), "sha256": r.sha256.hex(),
               "manufacturer_image_hash": r.entry.manufacturer_image_hash.hex(),
               "gb_signature": "valid" if r.signature_checked else "not checked (no manufacturer key)"}
              for r in release.images]
    if args.json:
        print(json.dumps({"ok": True, "release_id": release.release_id,
                          "release_date": release.release_date.isoformat(), "environment": release.environment,
                          "key_id": release.key_id, "bundle_sha256": digest, "images": images,
                          "upgrade_paths": [[format_version(a), format_version(b)] for a, b in release.upgrade_paths],
                          "compatible_pairs": len(release.compatibility)}, indent=2))
        return 0
    print(f"ok   release {release.release_id} of {release.release_date}, {release.environment} environment")
    print(f"ok   manifest signed by trusted key {release.key_id}")
    print(f"ok   release notes {release.notes_file}: SHA-256 matches")
    for image in images:
        print(f"ok   {image['file']}: {image['side']} {image['manufacturer']} {image['model']} "
              f"{image['file_version']}, SHA-256 and CPL entry match, GB signature {image['gb_signature']}")
    print(f"bundle sha256 {digest}")
    return 0


def show(args) -> int:
    from ..image import format_version
    from ..release import show as show_bundle

    info = show_bundle(args.bundle)
    if args.json:
        print(info["manifest_json"], end="")
        return 0
    m = info["manifest"]
    hw = lambda v: "any" if v is None else f"0x{v:04X}"   # noqa: E731
    print(f"release       {m.release_id}")
    print(f"date          {m.release_date.isoformat()}")
    print(f"environment   {m.environment}")
    print(f"signed by     {m.signing_key_id} (NOT verified: use release verify)")
    print(f"notes         {m.notes.file} ({m.notes.size} bytes)")
    print(f"images        {len(m.images)}")
    for e in m.images:
        print(f"  {e.file}  {e.side:<16} {e.manufacturer} {e.model} type 0x{e.image_type:04X} "
              f"{format_version(e.file_version)} hw [{hw(e.min_hardware_version)}, {hw(e.max_hardware_version)}] "
              f"{e.size} bytes")
    print(f"CPL entries   {len(m.cpl)}")
    print("upgrade paths " + (", ".join(f"{format_version(a)} -> {format_version(b)}" for a, b in m.upgrade_paths)
                              or "none"))
    _print_matrix(m.compatibility)
    return 0


def _print_matrix(pairs) -> None:
    from ..image import format_version

    hubs = sorted({h for h, _ in pairs})
    meters = sorted({m for _, m in pairs})
    print(f"compatibility {len(pairs)} pairs (rows: hub side, columns: meter side)")
    if not pairs:
        return
    listed = set(pairs)
    print("  " + " " * 10 + " ".join(f"{format_version(m):>10}" for m in meters))
    for h in hubs:
        print(f"  {format_version(h):>10}" + " ".join(f"{'yes' if (h, m) in listed else '-':>10}" for m in meters))


def demo(args) -> int:
    from ..testing.release_bundles import make_test_release

    directory = Path(args.directory)
    directory.mkdir(parents=True, exist_ok=True)
    bundle = directory / f"release-{args.environment}.zip"
    release = make_test_release(bundle, environment=args.environment, seed=args.seed, image_size=args.image_size)
    keys = release.write_keys(directory)
    for side, data in release.images.items():
        (directory / f"{side.lower()}.bin").write_bytes(data)
    print(f"wrote {bundle} ({release.manifest.release_id}) signed with a PUBLICLY KNOWN test key")
    print(f"wrote {', '.join(str(p) for p in keys.values())}")
    print(f"wrote {', '.join(str(directory / f'{side.lower()}.bin') for side in release.images)}")
    return 0
