"""Every ``--help`` and every usage error of the command line speaks French."""

from __future__ import annotations

import argparse
import importlib.metadata
import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from educonnect_tui.cli.arguments import build_parser, integer
from tests.helpers import RunCli

# What argparse writes by itself, in English, unless told otherwise.
ENGLISH = (
    "usage:",
    "positional arguments",
    "options:",
    "optional arguments",
    "show this help message",
    "and exit",
    "invalid choice",
    "choose from",
    "the following arguments are required",
    "unrecognized arguments",
    "expected one argument",
    "expected at least one argument",
    "ambiguous option",
    "could match",
    "not allowed with",
    "error:",
)


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


COMMANDS = [path for path, _ in _commands(build_parser())]


def _no_english(text: str) -> None:
    found = [words for words in ENGLISH if words in text.lower()]
    assert not found, f"{found} in:\n{text}"


def test_every_command_is_walked() -> None:
    assert ("audit", "list") in COMMANDS and ("activate", "pupil") in COMMANDS
    assert len(COMMANDS) > 15


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "educonnect-tui")
def test_help_of_every_command_is_french(run_cli: RunCli, path: tuple[str, ...]) -> None:
    code, out, err = run_cli([*path, "--help"])
    assert code == 0 and not err
    _no_english(out)
    assert out.startswith("utilisation\u00a0: educonnect-tui")
    assert "-h, --help" in out and "afficher cette aide et quitter" in out


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "educonnect-tui")
def test_every_option_has_a_french_help_text(path: tuple[str, ...]) -> None:
    parser = dict(_commands(build_parser()))[path]
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue  # refused options, kept only to explain the refusal
        assert action.help, f"{path} {action.option_strings or action.dest}: no help"
        _no_english(action.help)
    for group in parser._action_groups:
        assert group.title not in ("positional arguments", "optional arguments")


@pytest.mark.parametrize(
    "args",
    [
        ["stats"],
        ["stats", "--uai"],
        ["stats", "--uai", "X", "--format", "xml"],
        ["nimporte"],
        ["db"],
        ["db", "downgrade"],
        ["audit", "list", "--bogus"],
        ["audit", "list", "--for", "x"],
        ["audit", "list", "--o", "x"],
        ["search"],
        ["staff", "add", "--role", "chef"],
        ["delegate", "grant", "--uai", "X", "--agent", "a", "--module", "tout"],
        ["search", "x", "--limit", "zero"],
    ],
)
def test_usage_errors_are_one_french_line(run_cli: RunCli, args: list[str]) -> None:
    code, out, err = run_cli(args)
    assert code == 2 and not out
    assert err.count("\n") == 1 and err.startswith("educonnect-tui\u00a0: erreur\u00a0: "), err
    _no_english(err)


def test_choices_are_listed_as_words(run_cli: RunCli) -> None:
    code, _, err = run_cli(["stats", "--uai", "X", "--format", "xml"])
    assert code == 2
    assert "--format\u00a0: choix « xml » invalide (table, csv, json)" in err


def test_version(run_cli: RunCli) -> None:
    code, out, err = run_cli(["--version"])
    assert code == 0 and not err
    assert out == f"educonnect-tui {importlib.metadata.version('educonnect-tui')}\n"


def _integer_options() -> Iterator[tuple[tuple[str, ...], argparse.Action]]:
    """Every argument taking a whole number, found by what its type makes of « 7 »."""
    for path, parser in _commands(build_parser()):
        for action in parser._actions:
            if not callable(action.type):
                continue
            try:
                value = action.type("7")
            except (argparse.ArgumentTypeError, ValueError, TypeError):
                continue
            if isinstance(value, int) and not _takes_a_name(action):
                yield path, action


def _takes_a_name(action: argparse.Action) -> bool:
    """A number or a name (``serve --socket-group``: a group's id or name) is no number."""
    assert callable(action.type)
    try:
        action.type("root")
    except (argparse.ArgumentTypeError, ValueError, TypeError):
        return False
    return True


INTEGER_OPTIONS = list(_integer_options())


def _label(case: tuple[tuple[str, ...], argparse.Action]) -> str:
    path, action = case
    return " ".join((*path, *(action.option_strings[:1] or [str(action.metavar)])))


def test_every_integer_option_is_walked() -> None:
    found = {_label(case) for case in INTEGER_OPTIONS}
    assert {"demo --seed", "notify --activated", "delegate revoke --id", "search --limit"} <= found
    assert {"notify --expiring-within", "outbox resend N"} <= found


@pytest.mark.parametrize("case", INTEGER_OPTIONS, ids=_label)
@pytest.mark.parametrize("given", ["abc", "1.5", "x'y"])
def test_a_word_for_a_number_says_so(
    run_cli: RunCli, case: tuple[tuple[str, ...], argparse.Action], given: str
) -> None:
    path, action = case
    code, out, err = run_cli([*path, *action.option_strings[:1], given])
    assert code == 2 and not out
    name = action.option_strings[0] if action.option_strings else action.metavar
    expected = f"{name}\u00a0: « {given} » n'est pas un nombre entier (voir « educonnect-tui "
    assert err.startswith(f"educonnect-tui\u00a0: erreur\u00a0: {expected}"), err
    assert err.count("\n") == 1 and "invalide" not in err, err


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "educonnect-tui")
def test_a_default_said_in_the_help_is_the_default_and_a_choice(path: tuple[str, ...]) -> None:
    parser = dict(_commands(build_parser()))[path]
    for action in parser._actions:
        said = re.search(r"défaut\u00a0: (\w+)\)", str(action.help))
        if action.choices is None or said is None or isinstance(action.choices, dict):
            continue
        assert said[1] == action.default and said[1] in action.choices, (path, action.help)


@given(st.text(max_size=12))
def test_a_number_option_reads_a_whole_number_or_says_it_is_none(text: str) -> None:
    try:
        value = integer(text)
    except argparse.ArgumentTypeError as refusal:
        assert str(refusal) == f"« {text} » n'est pas un nombre entier"
    else:
        assert value == int(text) and re.fullmatch(r"[+-]?[0-9]+", text.strip())
