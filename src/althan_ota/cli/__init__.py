"""The ``althan-ota`` command. Each sub-command group lives in its own module of this package and exposes
``register(subparsers)``; the group's handlers return a process exit code."""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import AltHanError

# sub-command modules, in the order --help lists them
GROUPS = ["demo", "fleet", "image", "release", "emulate", "campaign", "plan", "report", "capture", "duis", "dcc",
          "backend", "bench"]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="althan-ota",
        description="Plan, emulate, run and report OTA firmware campaigns for GB P2P Alt HAN devices.")
    parser.add_argument("--version", action="version", version=f"althan-ota {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(f"{__name__}.{group}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except AltHanError as exc:
        print(f"althan-ota: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into head and the like
        sys.stderr.close()
        return 0
    except OSError as exc:   # a file that cannot be read or written: the system says why, we say which
        print(f"althan-ota: {_describe(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("althan-ota: interrupted", file=sys.stderr)
        return 130


def _describe(exc: OSError) -> str:
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    return f"{type(exc).__name__}: {exc.strerror or exc}" + (f": {paths}" if paths else "")


if __name__ == "__main__":
    sys.exit(main())
