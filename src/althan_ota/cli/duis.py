"""``althan-ota duis``: build, sign, verify, parse and validate DUIS messages (SRV 11.4, 8.2, 12.2, 11.2 and
what the DCC answers)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import ParameterError
from ._io import firmware_version, integer_in
from ._io import read_file as _read
from ._io import write_file as _write

SERVICES = ("11.4", "8.2", "12.2", "11.2")


def register(sub) -> None:
    p = sub.add_parser("duis", help="build, sign, verify, parse and validate DUIS messages")
    cmds = p.add_subparsers(dest="duis_command", metavar="ACTION", required=True)

    b = cmds.add_parser("build", help="build a request (signed when --key and --cert are given)")
    b.add_argument("service", choices=SERVICES, help="Service Reference Variant")
    b.add_argument("-o", "--output", required=True)
    b.add_argument("--user-id", required=True, help="your DCC user ID (EUI-64), the RequestID's originator")
    b.add_argument("--target", help="the DSP's EUI-64 (11.4, 8.2, 12.2; for 11.2 the target is --device)")
    counter = b.add_mutually_exclusive_group(required=True)
    counter.add_argument("--counter", type=integer_in(1, 2 ** 64 - 1), help="the originator counter to use")
    counter.add_argument("--store", type=Path, help="campaign store that keeps your originator counters: the "
                                                    "next one is taken from it")
    b.add_argument("--device", action="append", default=[], help="a device ID (repeatable; 11.4 takes many)")
    b.add_argument("--devices-file", type=Path, help="11.4: a file of device IDs, one a line")
    b.add_argument("--image", type=Path, help="11.4: the GB or ZigBee OTA image")
    b.add_argument("--version", type=firmware_version, help="11.4: firmware version (default: the image's file version)")
    b.add_argument("--manufacturer", help="12.2: DeviceManufacturer")
    b.add_argument("--model", help="12.2: DeviceModel")
    b.add_argument("--device-type", default="PPMID", help="12.2: DeviceType (default PPMID)")
    b.add_argument("--firmware-version", help="12.2: FirmwareVersion as DUIS writes it, e.g. 01040000")
    b.add_argument("--key", help="private key to sign with (PEM or DER, P-256)")
    b.add_argument("--cert", help="the key's certificate (PEM or DER)")
    b.add_argument("--schema", help="validate against this DUIS XSD (default: $ALTHAN_OTA_DUIS_SCHEMA if set)")
    b.set_defaults(handler=build)

    s = cmds.add_parser("sign", help="sign a message (replacing any signature it carries)")
    s.add_argument("file")
    s.add_argument("--key", required=True)
    s.add_argument("--cert", required=True)
    s.add_argument("-o", "--output", help="default: print to stdout")
    s.set_defaults(handler=sign)

    v = cmds.add_parser("verify", help="verify a message's signature; exit 1 (saying why) if it is refused")
    v.add_argument("file")
    v.add_argument("--certs", required=True, help="directory of trusted PEM certificates")
    v.add_argument("--expect-signer", action="append", help="EUI-64 that must have signed (repeatable)")
    v.add_argument("--schema", help="also validate against this DUIS XSD")
    v.add_argument("--json", action="store_true")
    v.set_defaults(handler=verify)

    r = cmds.add_parser("parse", help="the records of a message (verified first with --certs)")
    r.add_argument("file")
    r.add_argument("--certs", help="directory of trusted PEM certificates (without it: not verified)")
    r.add_argument("--target-version", type=firmware_version, help="campaign target: 8.2 PPMID rows get a read-back outcome")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=parse)

    c = cmds.add_parser("validate", help="validate a message against the DUIS XSD; exit 1 if invalid")
    c.add_argument("file")
    c.add_argument("--schema", help="DUIS Schema V5.4.xsd (default: $ALTHAN_OTA_DUIS_SCHEMA)")
    c.set_defaults(handler=validate)


def _schema(path):
    import os

    from ..duis import load_schema
    from ..duis.schema import ENV_VAR

    if path is None and not os.environ.get(ENV_VAR, "").strip():
        return None
    return load_schema(path)


def build(args) -> int:
    from ..duis import requests

    if bool(args.key) != bool(args.cert):
        raise ParameterError("signing needs both --key and --cert")
    counter = args.counter
    if args.store is not None:
        from ..campaign.store import CampaignStore
        from ..duis.identifiers import eui

        with CampaignStore(args.store) as store:
            counter = store.next_request_counters(eui(args.user_id, "--user-id"), 1)[0]
    devices = list(args.device)
    if args.devices_file is not None:
        devices += [line.strip() for line in _read(args.devices_file).decode("utf-8", "replace").splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    service = args.service
    if service != "11.4" and len(devices) != 1:
        raise ParameterError(f"SRV {service} names exactly one --device")
    if service == "11.2":
        if args.target is not None:
            raise ParameterError("SRV 11.2 is a device request: its target is --device, not --target")
        root = requests.read_firmware_version(devices[0], user_id=args.user_id, counter=counter)
    else:
        if args.target is None:
            raise ParameterError(f"SRV {service} goes to the DSP: give its EUI-64 with --target")
        common = {"user_id": args.user_id, "dsp_id": args.target, "counter": counter}
        if service == "11.4":
            if args.image is None or not devices:
                raise ParameterError("SRV 11.4 needs --image and at least one --device or --devices-file")
            root = requests.update_ppmid_firmware(_read(args.image), devices, version=args.version, **common)
        elif service == "8.2":
            root = requests.read_inventory(devices[0], **common)
        else:
            if not args.manufacturer or not args.model:
                raise ParameterError("SRV 12.2 needs --manufacturer and --model")
            root = requests.device_prenotification(devices[0], manufacturer=args.manufacturer, model=args.model,
                                                   device_type=args.device_type,
                                                   firmware_version_text=args.firmware_version, **common)
    schema = _schema(args.schema)
    if schema is not None:
        schema.validate(root)
    if args.key:
        from ..duis import Signer

        data = Signer(args.key, args.cert).sign(root)
    else:
        from lxml import etree

        data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    _write(args.output, data)
    request_id = root.findtext("{http://www.dccinterface.co.uk/ServiceUserGateway}Header/"
                               "{http://www.dccinterface.co.uk/ServiceUserGateway}RequestID")
    print(f"SRV {service} {request_id} -> {args.output} ({len(data):,} bytes, "
          f"{'signed' if args.key else 'unsigned'})")
    return 0


def sign(args) -> int:
    from ..duis import Signer

    data = Signer(args.key, args.cert).sign_bytes(_read(args.file))
    if args.output:
        _write(args.output, data)
    else:
        sys.stdout.buffer.write(data)
    return 0


def verify(args) -> int:
    from ..duis import TrustStore, Verifier, parse_bytes
    from ..errors import DuisError

    verifier = Verifier(TrustStore.from_directory(args.certs), args.expect_signer)
    try:
        root = parse_bytes(_read(args.file))
        schema = _schema(args.schema)
        if schema is not None:
            schema.validate(root)
        signer = verifier.verify(root)
    except DuisError as exc:
        if args.json:
            print(json.dumps({"verified": False, "reason": str(exc)}))
        print(f"REFUSED {args.file}: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"verified": True, "signer": signer.entity_id, "subject": signer.subject,
                          "serial": str(signer.serial), "issuer": signer.issuer, "certificate": signer.source}))
    else:
        print(f"verified: signed by {signer.entity_id or signer.subject} (certificate serial {signer.serial}, "
              f"{signer.source})")
    return 0


def parse(args) -> int:
    from ..duis import TrustStore, Verifier, read_message
    from ..duis.records import as_dict

    verifier = Verifier(TrustStore.from_directory(args.certs)) if args.certs else None
    message = read_message(_read(args.file), verifier, targets=args.target_version)
    if args.json:
        print(json.dumps({"verified": verifier is not None, **as_dict(message)}, indent=2))
        return 0
    head = f"{message.kind} (schema {message.schema_version})"
    if message.service_reference_variant:
        head += f", SRV {message.service_reference_variant}"
    if message.alert_code:
        head += f", alert {message.alert_code}"
    print(head + ("" if verifier else " [signature NOT verified]"))
    for label, value in (("request", message.request_id), ("response", message.response_id)):
        if value is not None:
            print(f"  {label} ID: {value}")
    if message.response_code is not None:
        print(f"  response code: {message.response_code.code} ({message.response_code.meaning})")
    if message.signer is not None:
        print(f"  signed by: {message.signer.entity_id or message.signer.subject}")
    for record in message.records:
        fields = {k: v for k, v in as_dict(record).items() if k not in ("type", "request_id") and v not in (None, ())}
        outcome = fields.pop("outcome", None)
        text = ", ".join(f"{k}={v}" for k, v in fields.items() if not isinstance(v, dict))
        print(f"  {type(record).__name__}: {text}" + (f" -> {outcome}" if outcome else ""))
    return 0


def validate(args) -> int:
    from ..duis import load_schema, parse_bytes
    from ..errors import DuisError

    schema = load_schema(args.schema)
    try:
        schema.validate(parse_bytes(_read(args.file)))
    except DuisError as exc:
        print(f"INVALID {args.file}: {exc}", file=sys.stderr)
        return 1
    print(f"valid against {schema.path.name}: {args.file}")
    return 0
