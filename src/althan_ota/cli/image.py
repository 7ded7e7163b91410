"""``althan-ota image``: inspect, build, sign and verify firmware images (ZigBee OTA files, GB images)."""

from __future__ import annotations

import json

from ..errors import AltHanError, ParameterError
from ._io import integer_in
from ._io import read_file as _read
from ._io import write_file as _write


def register(sub) -> None:
    p = sub.add_parser("image", help="inspect, build, sign and verify firmware images")
    cmds = p.add_subparsers(dest="image_command", metavar="ACTION", required=True)

    i = cmds.add_parser("inspect", help="every header field, the sub-elements, hashes and signature state")
    i.add_argument("file")
    i.add_argument("--format", choices=["zigbee", "gbcs"], help="force the format instead of detecting it")
    i.add_argument("--json", action="store_true", help="print JSON instead of text")
    i.set_defaults(handler=inspect)

    b = cmds.add_parser("build", help="build a ZigBee OTA file or a GB image from a payload file")
    b.add_argument("format", choices=["zigbee", "gbcs"])
    b.add_argument("payload", help="the upgrade image (zigbee) or Manufacturer Image (gbcs)")
    b.add_argument("-o", "--output", required=True)
    b.add_argument("--manufacturer-code", type=integer_in(0, 0xFFFF), required=True)
    b.add_argument("--image-type", type=integer_in(0, 0xFFFF), required=True)
    b.add_argument("--file-version", type=integer_in(0, 0xFFFFFFFF), required=True, help="32-bit, e.g. 0x01020304")
    b.add_argument("--stack-version", type=integer_in(0, 0xFFFF), default=2)
    b.add_argument("--header-string", default="")
    b.add_argument("--hardware", type=integer_in(0, 0xFFFF), nargs=2, metavar=("MIN", "MAX"),
                   help="hardware version range (required for gbcs)")
    b.add_argument("--security-credential", type=integer_in(0, 0xFF), help="zigbee: security credential version")
    b.add_argument("--destination", type=integer_in(0, 2 ** 64 - 1), help="zigbee: upgrade file destination EUI-64")
    b.add_argument("--element", action="append", default=[], metavar="TAG:FILE",
                   help="zigbee: an extra sub-element, e.g. 0xF000:notes.bin (repeatable)")
    b.add_argument("--integrity-code", action="store_true", help="zigbee: append the AES-MMO integrity code")
    b.add_argument("--key", help="gbcs: PEM private key to sign with (omit for an unsigned PPMID image)")
    b.add_argument("--force-replace", type=int, choices=[0, 1], default=0, help="gbcs: ForceReplace flag")
    b.set_defaults(handler=build)

    s = cmds.add_parser("sign", help="sign (or re-sign) a GB image with a PEM private key")
    s.add_argument("file")
    s.add_argument("--key", required=True, help="PEM ECDSA P-256 private key")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--force-replace", type=int, choices=[0, 1], help="default: keep the image's flag")
    s.set_defaults(handler=sign)

    v = cmds.add_parser("verify", help="check integrity code, signature and CPL listing; exit 1 on failure")
    v.add_argument("file")
    v.add_argument("--format", choices=["zigbee", "gbcs"])
    v.add_argument("--public-key", help="PEM public key (or raw 64-byte X||Y file) of the signer")
    v.add_argument("--cpl", help="CPL entries as JSON or CSV")
    v.add_argument("--json", action="store_true")
    v.set_defaults(handler=verify)


def describe(image) -> dict:
    """Everything ``inspect`` shows, as JSON-ready values."""
    hw = lambda v: None if v is None else f"0x{v:04X}"   # noqa: E731
    info = {
        "format": image.format,
        "container": image.container,
        "prefix_length": image.prefix_length,
        "trailing_bytes": image.trailing_bytes,
        "header_version": f"0x{image.header_version:04X}",
        "header_length": image.header_length,
        "field_control": f"0x{image.field_control:04X}",
        "manufacturer_code": f"0x{image.manufacturer_code:04X}",
        "image_type": f"0x{image.image_type:04X}",
        "file_version": image.file_version_hex,
        "stack_version": f"0x{image.stack_version:04X}",
        "header_string": image.header_string,
        "total_size": image.total_size,
        "security_credential_version": image.security_credential_version,
        "destination": None if image.destination is None else f"{image.destination:016X}",
        "min_hardware_version": hw(image.min_hardware_version),
        "max_hardware_version": hw(image.max_hardware_version),
        "image_sha256": image.image_hash.hex(),
    }
    if image.format == "zigbee":
        info["elements"] = [{"tag": f"0x{e.tag:04X}", "name": e.name, "offset": e.offset, "length": e.length,
                             **({"tag_info": f"0x{e.tag_info:04X}"} if e.tag_info is not None else {})}
                            for e in image.elements]
        ok = image.integrity_code_ok()
        info["integrity_code"] = "absent" if ok is None else ("valid" if ok else "INVALID")
    else:
        info["manufacturer_image_length"] = len(image.manufacturer_image)
        info["manufacturer_image_hash"] = image.manufacturer_image_hash.hex()
        info["force_replace"] = image.force_replace
        info["signature"] = None if image.signature is None else image.signature.hex()
    return info


def _print(info: dict) -> None:
    width = max(len(k) for k in info)
    for key, value in info.items():
        if key == "elements":
            print(f"{key:<{width}}  {len(value)}")
            for e in value:
                extra = f" tag_info {e['tag_info']}" if "tag_info" in e else ""
                print(f"  {e['tag']} {e['name']:<36} offset {e['offset']:>8}  length {e['length']:>8}{extra}")
        else:
            print(f"{key:<{width}}  {'-' if value is None else value}")


def inspect(args) -> int:
    from ..image import parse

    info = describe(parse(_read(args.file), format=args.format))
    if info.get("format") == "gbcs":
        info["signature_state"] = "absent" if info["signature"] is None else "present (check with verify)"
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        _print(info)
    return 0


def build(args) -> int:
    from ..image import build_gbcs, build_zigbee, load_private_key

    payload = _read(args.payload)
    common = dict(manufacturer_code=args.manufacturer_code, image_type=args.image_type,
                  file_version=args.file_version, stack_version=args.stack_version,
                  header_string=args.header_string)
    if args.format == "zigbee":
        if args.key:
            raise ParameterError("--key signs GB images; ZigBee files take --integrity-code")
        elements = []
        for spec in args.element:
            tag, sep, path = spec.partition(":")
            if not sep:
                raise ParameterError(f"--element takes TAG:FILE, not {spec!r}")
            try:
                tag_value = int(tag, 0)
            except ValueError:
                raise ParameterError(f"--element {spec!r}: the tag must be an integer, e.g. 0xF000") from None
            elements.append((tag_value, _read(path)))
        data = build_zigbee(payload, security_credential_version=args.security_credential,
                            destination=args.destination,
                            hardware_versions=tuple(args.hardware) if args.hardware else None,
                            elements=elements, integrity_code=args.integrity_code, **common)
    else:
        if not args.hardware:
            raise ParameterError("a GB image needs --hardware MIN MAX (field control 0x0004)")
        if args.element or args.integrity_code or args.security_credential is not None or args.destination:
            raise ParameterError("--element, --integrity-code, --security-credential and --destination are "
                                 "ZigBee-file options; a GB image has none of them")
        key = load_private_key(_read(args.key)) if args.key else None
        data = build_gbcs(payload, min_hardware_version=args.hardware[0], max_hardware_version=args.hardware[1],
                          private_key=key, signed=key is not None, force_replace=args.force_replace, **common)
    _write(args.output, data)
    print(f"wrote {args.output}: {len(data)} bytes, {args.format}"
          + ("" if args.format == "zigbee" else (", signed" if args.key else ", unsigned")))
    return 0


def sign(args) -> int:
    from ..image import parse, sign_gbcs

    data = sign_gbcs(_read(args.file), _read(args.key), force_replace=args.force_replace)
    _write(args.output, data)
    image = parse(data, format="gbcs")
    print(f"wrote {args.output}: {len(data)} bytes, manufacturer image hash "
          f"{image.manufacturer_image_hash.hex()}")
    return 0


def verify(args) -> int:
    from ..image import cpl_check, load_cpl, parse

    image = parse(_read(args.file), format=args.format)
    checks: list[tuple[str, bool | None, str]] = [("format", True, f"{image.format}, {image.total_size} bytes, "
                                                   f"version {image.file_version_hex}")]
    if image.format == "zigbee":
        ok = image.integrity_code_ok()
        checks.append(("integrity code", ok, {None: "absent", True: "valid", False: "does not match"}[ok]))
    if image.format == "gbcs" or args.public_key:
        if not args.public_key:
            checks.append(("signature", None, "present, not checked (no --public-key)" if image.signature
                           else "absent"))
        else:
            try:
                image.verify_signature(_read(args.public_key))
                checks.append(("signature", True, "valid"))
            except AltHanError as exc:
                checks.append(("signature", False, str(exc)))
    if args.cpl:
        result = cpl_check(image, load_cpl(args.cpl))
        checks.append(("CPL", result.listed, result.detail))
    failed = any(ok is False for _, ok, _ in checks)
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [{"check": n, "ok": ok, "detail": d}
                                                        for n, ok, d in checks]}, indent=2))
    else:
        for name, ok, detail in checks:
            print(f"{'ok  ' if ok else ('FAIL' if ok is False else '--  ')} {name}: {detail}")
    return 1 if failed else 0
