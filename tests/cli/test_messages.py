"""The command line's own messages: a bad option names itself under its command's usage, every
command documents its exit statuses, and ``trackmock examples`` makes docs/drift.md runnable
from any folder."""

from __future__ import annotations

import inspect
import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from trackmock import cli
from trackmock.cli import build_parser, main

COMMANDS = ("serve", "check", "diff", "proxy", "probe", "examples")


def _run(*argv: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_an_unknown_option_shows_the_commands_usage_and_names_the_option() -> None:
    code, _, err = _run("serve", "--bogus")
    assert code == 2
    assert err.startswith("usage: trackmock serve ")
    assert "unrecognized arguments: --bogus" in err


def test_a_port_that_is_no_number_says_what_a_port_is() -> None:
    code, _, err = _run("serve", "--tracker-port", "abc")
    assert code == 2
    assert "argument --tracker-port: 'abc' is not a port" in err
    assert "from 0 to 65535" in err
    assert "_port" not in err


def test_a_clock_start_that_is_no_date_names_the_flag() -> None:
    code, _, err = _run("serve", "--clock-start", "notadate")
    assert code == 2
    assert "argument --clock-start: 'notadate' is not an ISO 8601 instant" in err


def test_a_settings_folder_is_called_a_folder(tmp_path: Path) -> None:
    code, _, err = _run("serve", "--settings", tmp_path)
    assert code == 2
    assert f"argument --settings: {tmp_path} is a folder" in err
    assert "no such settings file" not in err


def test_an_unknown_settings_key_lists_the_vendor_sections_too(tmp_path: Path) -> None:
    settings = tmp_path / "settings.yaml"
    settings.write_text("colour: red\n")
    code, _, err = _run("serve", "--settings", settings, "--vendor", "tracker")
    assert code == 1
    assert "unknown key(s) colour" in err
    for name in ("strict", "seed", "tracker", "trackops", "track"):
        assert re.search(rf"\b{name}\b", err.split("known:", 1)[1])


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_documents_its_exit_statuses(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 " in text
    assert re.search(r"\b2 [a-zA-Z]", text.split("Exit status:", 1)[1])


def test_the_parser_is_built_from_small_functions() -> None:
    builders = [
        function
        for name, function in inspect.getmembers(cli, inspect.isfunction)
        if name == "build_parser" or name.startswith(("_add_", "_serve_", "_report_"))
    ]
    assert len(builders) >= 8
    for function in builders:
        lines = inspect.getsource(function).splitlines()
        assert len(lines) <= 50, f"{function.__name__} is {len(lines)} lines"
    commands = next(
        a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction"
    )
    assert set(commands.choices) == set(COMMANDS)


def test_examples_copies_what_drift_md_runs_and_they_run_from_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "examples"
    code, out, _ = _run("examples", target)
    assert code == 0
    assert (target / "drift" / "captures" / "tracker-v99-getByNumber.har").is_file()
    assert (target / "contracts" / "track" / "asyncapi.yaml").is_file()
    assert "next: cd" in out
    monkeypatch.chdir(target)
    capture = "drift/captures/tracker-v99-getByNumber.har"
    code, out, _ = _run("check", "--vendor", "tracker", capture)
    assert code == 1
    assert "missing-required-field: caseOfficerIds" in out
    code, out, _ = _run("diff", "drift/tracker-v99", "drift/tracker-v100")
    assert code == 1
    assert "field-renamed" in out
    # Nothing is overwritten.
    code, _, err = _run("examples", target)
    assert code == 2
    assert "exists already" in err
