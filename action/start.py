"""Start trackmock emulators in the background for the rest of a CI job (the logic of the
repository's GitHub Actions composite action, ``action.yml``; it runs anywhere).

    python action/start.py --trackmock .venv/bin/trackmock --vendors tracker,trackops \\
        --ready-file /tmp/trackmock/ready.json

It starts ``trackmock serve`` detached (its output goes to a log file beside the ready file),
waits until the ready file appears (``serve`` writes it once every emulator answers), and then
writes what the next steps need:

- to ``$GITHUB_OUTPUT`` (when set): ``ready-file``, ``pid``, ``log``, ``ca-cert``, and per
  emulator ``<vendor>-url`` and ``<vendor>-<credential>`` (``tracker-token``,
  ``trackops-username``, ``track-password``, ...);
- to ``$GITHUB_ENV`` (when set): ``TRACKMOCK_READY_FILE``, ``TRACKMOCK_PID``, ``TRACKMOCK_LOG``,
  ``TRACKMOCK_CA_CERT``, ``TRACKMOCK_<VENDOR>_URL``, ``TRACKMOCK_<VENDOR>_<CREDENTIAL>``, and
  ``TRACKMOCK_ADMIN_TOKEN`` when the emulators need one (masked in the log);
- the same ``KEY=value`` lines to standard output.

The admin token is read from ``TRACKMOCK_ADMIN_TOKEN`` (never a command-line argument). Exit
status: 0 ready; 1 ``serve`` stopped or did not get ready in time (the log's end is printed).
Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

POLL = 0.1
"""Seconds between two looks for the ready file."""
LOG_TAIL = 40


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).replace("_", "-").lower()


def _snake(name: str) -> str:
    return _kebab(name).replace("-", "_").upper()


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trackmock", default="trackmock", help="the trackmock command")
    parser.add_argument("--vendors", default="all", help="tracker, trackops, track, or all")
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--settings", default="", help="a settings file (docs/settings.md)")
    parser.add_argument("--seed", default="")
    for vendor, port in (("tracker", 8081), ("trackops", 8082), ("track", 8083)):
        parser.add_argument(f"--{vendor}-port", default=str(port))
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait at most")
    parser.add_argument("--extra-args", default="", help="more `serve` options, space-separated")
    return parser.parse_args(argv)


def serve_command(args: argparse.Namespace) -> list[str]:
    command = [args.trackmock, "serve", "--vendor", args.vendors, "--ready-file"]
    command.append(str(args.ready_file))
    for vendor in ("tracker", "trackops", "track"):
        command += [f"--{vendor}-port", getattr(args, f"{vendor}_port")]
    if args.settings:
        command += ["--settings", args.settings]
    if args.seed:
        command += ["--seed", args.seed]
    return command + args.extra_args.split()


def exports(ready: dict[str, dict[str, object]]) -> tuple[dict[str, str], dict[str, str]]:
    """The step outputs and the environment variables a ready file gives."""
    outputs: dict[str, str] = {}
    env: dict[str, str] = {}
    for vendor, info in sorted(ready.items()):
        outputs[f"{vendor}-url"] = env[f"TRACKMOCK_{vendor.upper()}_URL"] = str(info["url"])
        credentials = info.get("credentials") or {}
        assert isinstance(credentials, dict)
        for key, value in sorted(credentials.items()):
            text = str(value)
            outputs[f"{vendor}-{_kebab(key)}"] = text
            env[f"TRACKMOCK_{vendor.upper()}_{_snake(key)}"] = text
        if info.get("ca_cert"):
            outputs[f"{vendor}-ca-cert"] = outputs["ca-cert"] = str(info["ca_cert"])
            env[f"TRACKMOCK_{vendor.upper()}_CA_CERT"] = env["TRACKMOCK_CA_CERT"] = str(
                info["ca_cert"]
            )
    return outputs, env


def _append(variable: str, values: dict[str, str]) -> None:
    target = os.environ.get(variable)
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.writelines(f"{key}={value}\n" for key, value in values.items())


def _tail(log: Path) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-LOG_TAIL:])
    except OSError:
        return "(no log)"


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    ready_file: Path = args.ready_file.resolve()
    ready_file.parent.mkdir(parents=True, exist_ok=True)
    ready_file.unlink(missing_ok=True)  # a stale file must not pass for this run's
    log = ready_file.with_suffix(".log")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            serve_command(args),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this step; the CI job's end stops it
        )
    deadline = time.monotonic() + args.timeout
    while not ready_file.exists():
        if process.poll() is not None:
            print(f"trackmock serve stopped (exit {process.returncode}):\n{_tail(log)}")
            return 1
        if time.monotonic() > deadline:
            process.terminate()
            print(f"trackmock serve was not ready after {args.timeout:g} s:\n{_tail(log)}")
            return 1
        time.sleep(POLL)
    outputs, env = exports(json.loads(ready_file.read_text()))
    common = {"ready-file": str(ready_file), "pid": str(process.pid), "log": str(log)}
    outputs = {**common, **outputs}
    env.update({f"TRACKMOCK_{_snake(key)}": value for key, value in common.items()})
    token = os.environ.get("TRACKMOCK_ADMIN_TOKEN")
    if token:
        if os.environ.get("GITHUB_ACTIONS") == "true":
            print(f"::add-mask::{token}")
        env["TRACKMOCK_ADMIN_TOKEN"] = token
    _append("GITHUB_OUTPUT", outputs)
    _append("GITHUB_ENV", env)
    for key, value in env.items():
        if key != "TRACKMOCK_ADMIN_TOKEN":
            print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
