"""The image's health check: healthy when every emulator in the ready file answers.

Reads the ready file named by TRACKMOCK_READY_FILE (``trackmock serve`` writes it only once
every emulator answers) and asks each listed URL for ``/__admin/health``, which needs no
admin token, over TLS with the listed CA where there is one. Exit 0 healthy, 1 not (yet).
Standard library only: it runs every few seconds and must start fast.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.request
from pathlib import Path

TIMEOUT = 2.0


def check(ready_file: Path) -> list[str]:
    """What is not healthy (empty when all is well)."""
    try:
        emulators = json.loads(ready_file.read_text())
    except (OSError, ValueError) as exc:
        return [f"no ready file yet ({ready_file}: {exc})"]
    problems = []
    for name, info in sorted(emulators.items()):
        url = info["url"].rstrip("/") + "/__admin/health"
        context = None
        if url.startswith("https://") and info.get("ca_cert"):
            context = ssl.create_default_context(cafile=info["ca_cert"])
        elif url.startswith("https://"):
            # Your own certificate (no test CA) names your hosts, not this loopback probe,
            # which only asks whether the server answers.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT, context=context) as answer:
                if answer.status != 200:
                    problems.append(f"{name}: {url} answered {answer.status}")
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: {url}: {exc}")
    return problems


def main() -> int:
    ready_file = Path(os.environ.get("TRACKMOCK_READY_FILE", "/srv/trackmock/ready.json"))
    problems = check(ready_file)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
