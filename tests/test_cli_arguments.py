"""Every command with missing and invalid arguments (issue 20, items 8 and 10): a short error and a non-zero
exit status, never a traceback, and nothing created on the way.

The commands and their options are read from the parser itself, so a command added later is covered too:
each is run without its required arguments, with input files that are not there, and with every numeric
option given a negative number, NaN, infinity and a word; then the outputs that cannot be written (a
missing folder, a directory) are tried on commands whose inputs are good."""

from __future__ import annotations

import argparse
import contextlib
import io
import signal
from pathlib import Path

import pytest

from althan_ota.cli import build_parser, main

MISSING = "/proc/althan-ota-nowhere"


def _leaves(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    if parser.get_default("handler") is not None:
        yield prefix, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaves(sub, prefix + (name,))


LEAVES = dict(_leaves(build_parser()))


def _arguments(parser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, (argparse._HelpAction, argparse._VersionAction,
                                                             argparse._SubParsersAction))]


def _required(parser) -> list[argparse.Action]:
    return [a for a in _arguments(parser)
            if (a.option_strings and a.required) or (not a.option_strings and a.nargs not in ("?", "*"))]


def _is_number(action: argparse.Action) -> bool:
    return action.type not in (None, str, Path) and action.nargs != 0


def _filled(parser) -> list[str]:
    """The required arguments, each with a value that parses: files that do not exist, the number 1."""
    argv: list[str] = []
    for action in _required(parser):
        count = action.nargs if isinstance(action.nargs, int) else 1
        value = str(action.choices[0]) if action.choices else ("1" if _is_number(action) else
                                                               f"{MISSING}/{action.dest}")
        argv += ([action.option_strings[-1]] if action.option_strings else []) + [value] * count
    return argv


class KeptRunning(BaseException):
    """Raised by the alarm: a command accepted bad arguments and went to work."""


def run(argv: list[str]) -> tuple[int, str]:
    """The command's exit status and standard error; any exception escaping main is a test failure."""
    err = io.StringIO()

    def too_long(*_):
        raise KeptRunning(f"althan-ota {' '.join(argv)} accepted its arguments and kept running")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(60)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                status = main(argv)
            except SystemExit as exc:
                status = exc.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return status, err.getvalue()


def assert_refused(argv: list[str], status: int, err: str) -> None:
    assert status not in (0, None), f"althan-ota {' '.join(argv)} succeeded"
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1] if err.strip() else ""
    assert last.startswith("althan-ota") and ("error:" in last or "Error:" in last), err


@pytest.fixture(autouse=True)
def in_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    # a refused command leaves nothing behind (the default store, fleet or report files included)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in KEEP) == []


KEEP = {"good.csv", "bad.csv", "fleet.parquet", "empty-folder"}


@pytest.mark.parametrize("command", [c for c, p in LEAVES.items() if _required(p)], ids=" ".join)
def test_without_required_arguments(command):
    argv = list(command)
    status, err = run(argv)
    assert status == 2
    assert_refused(argv, status, err)


@pytest.mark.parametrize("command", [c for c, p in LEAVES.items()
                                     if any(not _is_number(a) and not a.choices for a in _required(p))],
                         ids=" ".join)
def test_with_input_files_that_are_not_there(command):
    argv = list(command) + _filled(LEAVES[command])
    assert_refused(argv, *run(argv))


NUMBER_CASES = [(command, action.option_strings[-1] if action.option_strings else None, value)
                for command, parser in LEAVES.items() for action in _arguments(parser) if _is_number(action)
                for value in ("-5", "nan", "inf", "many")]


@pytest.mark.parametrize("command, option, value", NUMBER_CASES,
                         ids=[f"{' '.join(c)} {o or '<positional>'} {v}" for c, o, v in NUMBER_CASES])
def test_numbers_out_of_range_are_refused_by_the_parser(command, option, value):
    parser = LEAVES[command]
    action = next(a for a in _arguments(parser) if (a.option_strings[-1] if a.option_strings else None) == option)
    count = action.nargs if isinstance(action.nargs, int) else 1
    argv = list(command) + [arg for a in _required(parser) if a is not action
                            for arg in _filled_one(a)] + ([option] if option else []) + [value] * count
    status, err = run(argv)
    assert status == 2, f"althan-ota {' '.join(argv)} got past the parser"
    assert_refused(argv, status, err)


def _filled_one(action) -> list[str]:
    parser = argparse.ArgumentParser()
    parser._actions = [action]
    return _filled(parser)


@pytest.fixture
def inputs(in_scratch_folder):
    """A good CSV extract, one with a bad row, a fleet file and an empty folder."""
    from althan_ota.fleet import generate_fleet

    folder = in_scratch_folder
    header = ("device_id,ppmid_variant,manufacturer,model,firmware_version,smi_status,join_mode,ch_id,supplier\n")
    row = "00-DB-12-34-56-78-00-{:02X},PPMID,NB,NB-1,0x01020304,Commissioned,PPMID,00-DB-12-00-00-00-00-01,Albion\n"
    (folder / "good.csv").write_text(header + row.format(1))
    (folder / "bad.csv").write_text(header + row.format(1) + "not-an-eui,PPMID,NB,NB-1,0x01,Commissioned,PPMID,x,y\n")
    generate_fleet(20, seed=1).write(folder / "fleet.parquet")
    (folder / "empty-folder").mkdir()
    return folder


UNWRITABLE = [f"{MISSING}/out", "empty-folder"]
OUTPUT_CASES = [
    ["fleet", "import", "good.csv", "--out", "{out}"],
    ["fleet", "import", "bad.csv", "--out", "{out}"],
    ["fleet", "generate", "--installations", "5", "--out", "{out}"],
    ["report", "fleet", "--fleet", "fleet.parquet", "--out", "{out}"],
    ["report", "out-of-sync", "--fleet", "fleet.parquet", "--out", "{out}"],
    ["report", "html", "--fleet", "fleet.parquet", "--out", "{out}"],
    ["emulate", "3", "--image-size", "2000", "--parquet", "{out}"],
    ["release", "demo", "{out}"],
    ["campaign", "run", "--fleet", "fleet.parquet", "--target-version", "0x01040000", "--image-size", "1000",
     "--store", "{out}"],
]


@pytest.mark.parametrize("template", OUTPUT_CASES, ids=lambda t: " ".join(t[:2]))
@pytest.mark.parametrize("out", UNWRITABLE)
def test_outputs_that_cannot_be_written(inputs, template, out):
    if template[:2] == ["release", "demo"] and out == "empty-folder":
        pytest.skip("release demo writes into a folder: an empty one is what it wants")
    argv = [arg.format(out=out) for arg in template]
    assert_refused(argv, *run(argv))


@pytest.mark.parametrize("argv", [
    ["capture", "read", "missing.pcap"], ["capture", "read", "empty-folder"],
    ["image", "inspect", "empty-folder"], ["fleet", "show", "empty-folder"],
    ["fleet", "import", "empty-folder"], ["report", "fleet", "--fleet", "empty-folder"],
    ["bench", "nope"], ["fleet", "import", "bad.csv", "--out", "x.parquet", "--quarantine", f"{MISSING}/q.csv"],
], ids=" ".join)
def test_inputs_that_are_not_files(inputs, argv):
    assert_refused(argv, *run(argv))


@pytest.mark.parametrize("action", ["resume", "pause", "abort", "status"])
def test_campaign_commands_do_not_create_a_missing_store(in_scratch_folder, action):
    argv = ["campaign", action, "some-campaign", "--store", "missing.duckdb"]
    status, err = run(argv)
    assert_refused(argv, status, err)
    assert "no campaign store at missing.duckdb" in err
    assert not (in_scratch_folder / "missing.duckdb").exists()
