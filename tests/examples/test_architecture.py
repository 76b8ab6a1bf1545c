"""docs/architecture.md's examples, run as written: adding an operation (its contract block and
its handler block, read from the page itself) and building an emulator."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path
from typing import Any

import requests
import yaml
from trackmock.core.emulator import Call, Reply, create_emulator
from trackmock.core.paths import contracts_dir
from trackmock.core.server import BackgroundRunner, Listener
from trackmock.core.settings import CoreSettings
from trackmock.tracker.errors import not_found
from trackmock.tracker.provider import TrackerProvider

PAGE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def blocks(section: str) -> dict[str, str]:
    """The fenced code blocks of one ``###`` section of the page, by language."""
    text = PAGE.read_text().split(f"\n### {section}\n", 1)[1].split("\n## ", 1)[0]
    text = text.split("\n### ", 1)[0]
    return dict(re.findall(r"```(\w+)\n(.*?)```", text, flags=re.DOTALL))


def test_adding_an_operation(tmp_path: Path) -> None:
    example = blocks("Adding an operation")
    folder = tmp_path / "tracker"
    shutil.copytree(contracts_dir() / "tracker", folder)
    document = yaml.safe_load((folder / "openapi.yaml").read_text())
    document["paths"].update(yaml.safe_load(example["yaml"]))
    (folder / "openapi.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    names: dict[str, Any] = {
        "Call": Call,
        "Reply": Reply,
        "not_found": not_found,
        "TrackerProvider": TrackerProvider,
    }
    body = textwrap.indent(example["python"], "    ")
    exec(f"class ExampleTracker(TrackerProvider):\n{body}", names)
    core = CoreSettings(clock_frozen=True, check_responses=True)
    emulator = create_emulator(names["ExampleTracker"], core, contracts=tmp_path)
    runner = BackgroundRunner([Listener(emulator)])
    runner.start()
    try:
        login = emulator.credentials()
        headers = {
            "Authorization": f"Bearer {login['token']}",
            "OrganizationId": str(login["organizationId"]),
            "OfficeId": str(login["officeId"]),
            "StaticToken": "true",
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        tags = requests.get(f"{emulator.base_url}/api/tags", headers=headers, timeout=10).json()
        emulator.clock.advance(61)  # a minute later: no polling-rule warning
        one = requests.get(f"{emulator.base_url}/api/tags/2389", headers=headers, timeout=10)
        assert one.status_code == 200, one.text
        assert one.json() == next(tag for tag in tags if tag["id"] == 2389)
        missing = requests.get(f"{emulator.base_url}/api/tags/7", headers=headers, timeout=10)
        assert missing.status_code == 404
        assert missing.json() == {"message": "Tag 7 was not found."}
        assert list(emulator.violations) == []
    finally:
        runner.stop()


def test_building_an_emulator() -> None:
    names: dict[str, Any] = {}
    exec(blocks("Building an emulator")["python"], names)
    emulator = names["emulator"]
    assert emulator.name == "tracker"
    assert emulator.settings.strict is False
    assert emulator.provider.settings.polling_rule is False
    assert emulator.contract_dir == contracts_dir() / "tracker"
