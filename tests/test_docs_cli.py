"""docs/cli.md is the command reference, generated from the parser so it cannot drift from the code.

Regenerate it after changing a command: ``python tests/test_docs_cli.py --write``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

CLI_MD = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
WIDTH = "110"

HEADER = """# Command reference

Every `althan-ota` command with its options, as `--help` prints them. This page is generated from the
parser (`python tests/test_docs_cli.py --write`; a test fails when a command or option is missing). What
each command is for, with examples and real output, is in the guides: [fleet](fleet.md), [images](images.md),
[releases](releases.md), [emulation](emulation.md), [campaigns](campaigns.md), [DUIS](duis.md),
[distributed planning](distributed.md), [reports](reports.md), [captures](captures.md),
[kernels](kernels.md), [benchmarks](benchmarks.md).

Exit status: 0 success; 1 a refused input or a failed check (one line on stderr: `althan-ota: <Error>:
<message>`); 2 a usage error (missing or out-of-range arguments); 130 interrupted.
"""


def _commands(parser: argparse.ArgumentParser, path: list[str]):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, path + [name])


def render() -> str:
    os.environ["COLUMNS"] = WIDTH
    from althan_ota.cli import build_parser

    parser = build_parser()
    parts = [HEADER]
    for path, sub in _commands(parser, []):
        if not path:
            continue
        parts.append(f"\n{'#' * min(len(path) + 1, 4)} `althan-ota {' '.join(path)}`\n\n```text\n"
                     f"{sub.format_help().rstrip()}\n```\n")
    return "".join(parts)


def _sections(text: str) -> dict[str, str]:
    sections, name = {}, None
    for line in text.splitlines():
        if line.startswith("#") and "`althan-ota " in line:
            name = line.split("`althan-ota ", 1)[1].rstrip("`")
            sections[name] = ""
        elif name is not None:
            sections[name] += line + "\n"
    return sections


def test_cli_reference_is_current():
    """Every command and every option of it is in docs/cli.md, and nothing else is. (Compared by content, not
    byte for byte: argparse words its help differently from one Python version to the next.)"""
    from althan_ota.cli import build_parser

    assert CLI_MD.exists(), "docs/cli.md is missing: python tests/test_docs_cli.py --write"
    documented = _sections(CLI_MD.read_text(encoding="utf-8"))
    commands = {" ".join(path): sub for path, sub in _commands(build_parser(), []) if path}
    stale = "out of date: python tests/test_docs_cli.py --write"
    assert sorted(documented) == sorted(commands), f"docs/cli.md lists other commands than the parser; {stale}"
    for name, sub in commands.items():
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in documented[name], f"althan-ota {name} {flag} is not in docs/cli.md; {stale}"
            if action.help and action.help is not argparse.SUPPRESS and not action.option_strings \
                    and not isinstance(action, argparse._SubParsersAction):
                assert action.dest in documented[name] or (action.metavar or "") in documented[name], \
                    f"althan-ota {name}: argument {action.dest} is not in docs/cli.md; {stale}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        CLI_MD.write_text(render(), encoding="utf-8")
        print(f"wrote {CLI_MD}")
    else:
        sys.exit("usage: python tests/test_docs_cli.py --write")
