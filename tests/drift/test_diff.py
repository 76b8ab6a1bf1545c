"""``diff``: each kind of change between two contract versions, and what breaks a client."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from trackmock.core.contracts import ContractError
from trackmock.core.paths import contracts_dir
from trackmock.drift import events as ev
from trackmock.drift.bundle import path_bundles
from trackmock.drift.diff import run_diff

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "drift"


def diff(old: Path, new: Path) -> set[tuple[str, str, str, bool]]:
    found: list[ev.Event] = []
    run_diff(path_bundles(old), path_bundles(new), found.append)
    return {
        (event.operation, finding.kind, finding.path, finding.breaking)
        for event in found
        if isinstance(event, ev.Checked)
        for finding in event.findings
    }


def test_the_v100_case_officer_change_is_breaking_for_reads_and_writes() -> None:
    assert diff(FIXTURES / "tracker-v99", FIXTURES / "tracker-v100") == {
        ("getCaseByNumber", "field-renamed", "response 200: caseOfficerId", True),
        ("getCase", "field-renamed", "response 200: caseOfficerId", True),
        ("updateCase", "field-renamed", "request body: caseOfficerId", True),
    }


def test_a_contract_compared_with_itself_has_no_change() -> None:
    assert diff(contracts_dir(), contracts_dir()) == set()


@pytest.fixture
def track(tmp_path: Path) -> tuple[Path, Path]:
    old = tmp_path / "old"
    shutil.copytree(contracts_dir() / "track", old)
    new = tmp_path / "new"
    shutil.copytree(contracts_dir() / "track", new)
    return old, new


def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def edit_yaml(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_response_fields_removed_added_retyped_and_enums(track: tuple[Path, Path]) -> None:
    old, new = track
    position = new / "schemas" / "Position.json"
    # Fields no other schema refers to, so the edited contract still resolves.
    texts = "".join(p.read_text() for p in (new / "schemas").glob("*.json"))
    free = [
        name
        for name in json.loads(position.read_text())["required"]
        if f"Position.json#/properties/{name}" not in texts
    ]
    gone, retyped = free[:2]

    def change(schema: dict[str, Any]) -> None:
        del schema["properties"][gone]
        schema["required"].remove(gone)
        schema["properties"]["batteryState"] = {"type": "string", "enum": ["ok", "low"]}
        schema["properties"][retyped] = {"type": "boolean"}

    edit_json(position, change)
    device = new / "schemas" / "Device.json"
    edit_json(device, lambda s: s["properties"]["status"]["enum"].append("sleeping"))
    found = diff(old, new)
    assert ("getPositions", "field-removed", f"response 200: [].{gone}", True) in found
    assert ("getPositions", "field-added", "response 200: [].batteryState", False) in found
    assert ("getPositions", "type-changed", f"response 200: [].{retyped}", True) in found
    frame = "payload: positions[]"
    assert ("message positions", "field-removed", f"{frame}.{gone}", True) in found
    assert ("getDevices", "enum-widened", "response 200: [].status", True) in found


def test_request_side_changes_break_when_the_vendor_may_refuse(track: tuple[Path, Path]) -> None:
    old, new = track
    device_input = new / "schemas" / "DeviceInput.json"
    edit_json(device_input, lambda s: s["required"].append("phone"))
    edit_json(new / "schemas" / "Device.json", lambda s: s["properties"]["status"]["enum"].pop())
    found = diff(old, new)
    assert ("createDevice", "field-now-required", "request body: phone", True) in found
    narrowed = [f for f in found if f[1] == "enum-narrowed" and f[0] == "getDevices"]
    assert narrowed
    assert not any(f[3] for f in narrowed)  # a response may shrink


def test_operations_statuses_parameters_and_security(track: tuple[Path, Path]) -> None:
    old, new = track

    def change(document: dict[str, Any]) -> None:
        paths = document["paths"]
        del paths["/api/beacons"]["get"]
        del paths["/api/devices"]["get"]["responses"]["200"]
        paths["/api/positions"]["get"]["parameters"].append(
            {"name": "floor", "in": "query", "required": True, "schema": {"type": "string"}}
        )
        paths["/api/positions"]["get"]["security"] = [{"basicAuth": []}]

    edit_yaml(new / "openapi.yaml", change)
    found = diff(old, new)
    assert ("getBeacons", "operation-removed", "(operation)", True) in found
    assert ("getDevices", "status-removed", "response 200", True) in found
    assert ("getPositions", "parameter-added", "parameter query floor", True) in found
    assert ("getPositions", "security-changed", "(security)", True) in found


def test_socket_messages_removed_and_changed(track: tuple[Path, Path]) -> None:
    old, new = track

    def change(document: dict[str, Any]) -> None:
        del document["components"]["messages"]["webSessionTimeout"]
        del document["channels"]["socket"]["messages"]["webSessionTimeout"]
        del document["operations"]["sendWebSessionTimeout"]

    edit_yaml(new / "asyncapi.yaml", change)
    edit_json(new / "schemas" / "PingFrame.json", lambda s: s.update(required=[]))
    found = diff(old, new)
    assert ("message webSessionTimeout", "message-removed", "(message)", True) in found
    assert any(f[0] == "message status" and f[1] == "field-now-optional" for f in found)


def test_unusable_contracts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no such file"):
        path_bundles(tmp_path / "missing")
    with pytest.raises(ContractError, match="holds no"):
        path_bundles(tmp_path)
