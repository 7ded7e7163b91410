"""``althan-ota dcc``: a DCC stand-in that speaks DUIS over HTTP (``serve``) and a load test through it
(``load``)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from ..errors import ParameterError
from ._io import add_tls_options, integer_in, number_in, positive, seed, tls_config

# DCC Boxed's public test material, as vendored in the repository (tests/data/duis)
TEST_DATA = Path("tests/data/duis")
DSP_KEY = TEST_DATA / "keys" / "dsp-xml-sign-90B3D51F30000002-ds.key"
DSP_CERT = TEST_DATA / "certs" / "dsp-xml-sign-90B3D51F30000002-ds.pem"
DSP_ID = "90-B3-D5-1F-30-00-00-02"


def register(sub) -> None:
    p = sub.add_parser("dcc", help="a DCC stand-in speaking DUIS over HTTP, and a load test through it")
    cmds = p.add_subparsers(dest="dcc_command", metavar="ACTION", required=True)

    s = cmds.add_parser("serve", help="answer signed DUIS requests on POST /duis and deliver alerts")
    s.add_argument("--fleet", required=True, type=Path, help="the inventory (CSV or Parquet)")
    s.add_argument("--certs", required=True, type=Path, help="folder of the users' certificates (trust store)")
    s.add_argument("--state", required=True, type=Path,
                   help="SQLite file of counters, attempts and undelivered messages (kept across restarts)")
    s.add_argument("--deliver-to", help="the user's endpoint base URL: alerts go to POST {URL}/duis")
    s.add_argument("--key", type=Path, default=DSP_KEY, help=f"the DSP's signing key (default {DSP_KEY})")
    s.add_argument("--cert", type=Path, default=DSP_CERT, help=f"the DSP's certificate (default {DSP_CERT})")
    s.add_argument("--dsp-id", default=DSP_ID, help=f"the DSP's EUI-64, the requests' target (default {DSP_ID})")
    s.add_argument("--plan", type=Path, help="the campaign plan (JSON, as `campaign` stores it) whose pair "
                                             "order, timeout, activation time and image size the emulation uses "
                                             "(default: a default plan for each 11.4's image)")
    s.add_argument("--seed", type=seed, default=0, help="the campaign seed (same seed -> same outcomes)")
    s.add_argument("--emulation", type=Path, help="emulation parameters as JSON, as `campaign` stores them "
                                                  "(default: the emulator's defaults)")
    s.add_argument("--time-scale", type=number_in(0.0), help="wall-clock mode: emulated seconds per wall second "
                                                             "(default: deterministic, X-Althan-Emulated-Time)")
    s.add_argument("--schema", type=Path, help="DUIS Schema V5.4.xsd to validate requests against")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=integer_in(0, 65535), default=0, help="0: any free port (printed)")
    s.add_argument("--sign-workers", type=integer_in(0), default=0,
                   help="processes signing alerts (0: in the server process)")
    add_tls_options(s, server="the stand-in", peer="the user's endpoint (--deliver-to)")
    s.set_defaults(handler=serve)
    register_load(cmds)


def _config(args):
    from ..campaign.plan import CampaignPlan
    from ..duis import TrustStore, load_schema
    from ..fleet import read_fleet
    from ..dcc.server import StandInConfig
    from ..emulate import EmulationParams
    from ._io import read_file

    if args.time_scale is not None and args.time_scale <= 0:
        raise ParameterError("--time-scale must be above 0")
    plan = CampaignPlan.from_json(read_file(args.plan).decode("utf-8")) if args.plan else None
    emulation = _emulation(args.emulation) if args.emulation else EmulationParams()
    return StandInConfig(
        fleet=read_fleet(args.fleet), trust=TrustStore.from_directory(args.certs), key=read_file(args.key),
        certificate=read_file(args.cert), dsp_id=args.dsp_id, state_path=args.state, deliver_to=args.deliver_to,
        seed=args.seed, plan=plan, schema=load_schema(args.schema) if args.schema else None,
        time_scale=args.time_scale, sign_workers=args.sign_workers, emulation=emulation, tls=tls_config(args))


def _emulation(path: Path):
    import json

    from ..campaign.emulation import dataclass_from_dict
    from ..emulate import EmulationParams
    from ._io import read_file

    try:
        return dataclass_from_dict(EmulationParams, json.loads(read_file(path).decode("utf-8")))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ParameterError(f"--emulation {path}: not emulation parameters as JSON ({exc})") from None


def serve(args) -> int:
    from ..dcc.server import serve as run_server
    from ..dcc.state import StandInState

    config = _config(args)
    StandInState(config.state_path).close()        # an unusable state file fails here, before listening
    try:
        asyncio.run(run_server(config, args.host, args.port, ready=lambda line: print(line, flush=True)))
    except KeyboardInterrupt:
        pass
    return 0


def register_load(cmds) -> None:
    l = cmds.add_parser("load", help="drive a whole campaign through a DCC stand-in and report throughput, "
                                     "latency, lost and duplicated messages")
    l.add_argument("--installations", type=positive, default=100_000, help="synthetic fleet size (default 100,000)")
    l.add_argument("--seed", type=seed, default=0)
    l.add_argument("--batch", type=integer_in(1, 50_000), default=5000, help="devices per SRV 11.4 (default 5000)")
    l.add_argument("--workers", type=integer_in(0), help="processes verifying deliveries (default: one per core)")
    l.add_argument("--sign-workers", type=integer_in(0), default=1, help="the stand-in's signing processes")
    l.add_argument("--image", type=Path, help="the firmware image (default: a 16 KB test GB image, 01040000)")
    l.add_argument("--certs", type=Path, help="the trust folder holding both certificates (default: throwaway "
                                              "test identities made for the run)")
    l.add_argument("--user-id", default="90-B3-D5-1F-30-01-00-00")
    l.add_argument("--user-key", type=Path, help="the User's signing key (default: a throwaway test identity)")
    l.add_argument("--user-cert", type=Path, help="the User's certificate")
    l.add_argument("--key", type=Path, help="the stand-in's DSP key (default: a throwaway test identity)")
    l.add_argument("--cert", type=Path, help="the stand-in's DSP certificate")
    l.add_argument("--dsp-id", default=DSP_ID)
    l.set_defaults(handler=load)


def load(args) -> int:
    from ..dcc.load import LoadConfig, run_load
    from ..image import build_gbcs, parse
    from ._io import read_file

    if args.image is not None:
        image = read_file(args.image)
        version = parse(image).file_version
    else:
        version = 0x01040000
        image = build_gbcs(bytes(range(256)) * 64, manufacturer_code=0x1234, image_type=0x0101,
                           file_version=version, min_hardware_version=1, max_hardware_version=3, signed=False)
    given = [args.certs, args.user_key, args.user_cert, args.key, args.cert]
    if any(path is not None for path in given) and None in given:
        raise ParameterError("give all of --certs, --user-key, --user-cert, --key and --cert, or none (then the "
                             "run uses throwaway test identities)")
    with tempfile.TemporaryDirectory(prefix="althan-dcc-load-") as scratch:
        if args.certs is None:
            from ..testing.duis_identities import write_test_identities

            made = write_test_identities(scratch, args.user_id, args.dsp_id)
            args.certs, args.key, args.cert = made.certs, made.dsp.key, made.dsp.cert
            args.user_key, args.user_cert = made.user.key, made.user.cert
        for path in (args.key, args.cert, args.certs):
            if not path.exists():
                raise ParameterError(f"{path}: no such file or folder")
        config = LoadConfig(installations=args.installations, user_id=args.user_id, dsp_id=args.dsp_id,
                            user_key=read_file(args.user_key), user_cert=read_file(args.user_cert), dsp_key=args.key,
                            dsp_cert=args.cert, certs=args.certs, image=image, version=version, seed=args.seed,
                            batch=args.batch, workers=args.workers, sign_workers=args.sign_workers)
        report = asyncio.run(run_load(config))
    for line in report.lines():
        print(line)
    return 0 if report.lost == 0 and report.duplicates == 0 and report.refused == 0 else 1
