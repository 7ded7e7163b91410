"""``althan-ota dcc``: a DCC stand-in that speaks DUIS over HTTP (``serve``) and a load test through it
(``load``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..errors import ParameterError
from ._io import integer_in, number_in, positive, seed

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
    s.add_argument("--time-scale", type=number_in(0.0), help="wall-clock mode: emulated seconds per wall second "
                                                             "(default: deterministic, X-Althan-Emulated-Time)")
    s.add_argument("--schema", type=Path, help="DUIS Schema V5.4.xsd to validate requests against")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=integer_in(0, 65535), default=0, help="0: any free port (printed)")
    s.add_argument("--sign-workers", type=integer_in(0), default=0,
                   help="processes signing alerts (0: in the server process)")
    s.set_defaults(handler=serve)


def _config(args):
    from ..campaign.plan import CampaignPlan
    from ..duis import TrustStore, load_schema
    from ..fleet import read_fleet
    from ..dcc.server import StandInConfig
    from ._io import read_file

    if args.time_scale is not None and args.time_scale <= 0:
        raise ParameterError("--time-scale must be above 0")
    plan = CampaignPlan.from_json(read_file(args.plan).decode("utf-8")) if args.plan else None
    return StandInConfig(
        fleet=read_fleet(args.fleet), trust=TrustStore.from_directory(args.certs), key=read_file(args.key),
        certificate=read_file(args.cert), dsp_id=args.dsp_id, state_path=args.state, deliver_to=args.deliver_to,
        seed=args.seed, plan=plan, schema=load_schema(args.schema) if args.schema else None,
        time_scale=args.time_scale, sign_workers=args.sign_workers)


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
