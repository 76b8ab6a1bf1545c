"""The Tracker emulator as a whole: contract coverage, limitations, settings, fixtures, volume."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from trackmock.core.contracts import Contract
from trackmock.core.paths import contracts_dir, fixtures_dir
from trackmock.core.settings import CoreSettings, SettingsError
from trackmock.pytest_plugin import EmulatorHandle
from trackmock.tracker.settings import TrackerSettings
from trackmock.vendors import create_emulator

from ..vendor_docs import limitations
from .helpers import Api

FOLDER = contracts_dir() / "tracker"
CONTRACT = Contract.from_path(FOLDER / "openapi.yaml")
ADMIN = Contract.from_path(FOLDER / "admin.yaml")
FIXTURE_SCHEMAS = {
    "addressTypes": "Lookup",
    "autoDispositionGroupsCreate": "IdText",
    "autoDispositionGroupsList": "IdText",
    "autoDispositionGroupsUpdate": "IdText",
    "cases": "Case",
    "custody": "CustodyRecord",
    "forms": "Form",
    "genders": "Lookup",
    "groups": "Group",
    "itemHistory": "ItemHistory",
    "items": "Item",
    "offenseTypes": "OffenseType",
    "offices": "Office",
    "organizations": "Organization",
    "personTypes": "Lookup",
    "races": "Lookup",
    "states": "State",
    "tags": "Tag",
    "tokens": "StaticToken",
    "users": "User",
}


@pytest.mark.parametrize("contract", [CONTRACT, ADMIN], ids=["api", "admin"])
def test_every_operation_has_a_handler(contract: Contract) -> None:
    provider = create_emulator("tracker", CoreSettings()).provider
    missing = [op for op in contract.operations.values() if provider.handler_for(op) is None]
    assert missing == []


@pytest.mark.parametrize("name", ["openapi.yaml", "admin.yaml"])
def test_the_contracts_are_valid_openapi(name: str) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.readers import read_from_filename

    document, url = read_from_filename(str(FOLDER / name))
    validate(document, base_uri=url)


def test_the_limitations_name_every_inferred_operation_and_record() -> None:
    doc = limitations("tracker")
    inferred = [op.id for op in CONTRACT.operations.values() if op.extensions.get("x-inferred")]
    assert inferred == ["listCasePeople", "createItem"]
    for name in inferred:
        assert f"`{name}`" in doc
    for path in sorted((FOLDER / "schemas").glob("*.json")):
        schema = json.loads(path.read_text())
        if schema.get("x-inferred"):
            assert schema["title"] in doc, schema["title"]


@pytest.mark.parametrize(("name", "schema"), sorted(FIXTURE_SCHEMAS.items()))
def test_fixtures_fit_their_schemas(name: str, schema: str) -> None:
    records = json.loads((fixtures_dir() / "tracker" / f"{name}.json").read_text())
    validator = CONTRACT.validator(CONTRACT.schema_uri(f"schemas/{schema}.json"))
    for record in records:
        assert list(validator.iter_errors(record)) == []


def test_every_fixture_file_is_known() -> None:
    names = {path.stem for path in (fixtures_dir() / "tracker").glob("*.json")}
    assert names == set(FIXTURE_SCHEMAS)


def test_credentials_name_the_documented_login_values(tracker: EmulatorHandle) -> None:
    assert tracker.credentials == {
        "token": "3f9a6c2e-5b1d-4e8a-9c7f-2d4b6e8a0c11",
        "organizationId": 1,
        "officeId": 1,
        "staticToken": "true",
        "userId": 12701,
        "limitedToken": "b7d2e4f6-1a3c-4b5d-8e9f-0a1b2c3d4e5f",
    }


def test_settings_are_checked_by_name_and_type() -> None:
    core = CoreSettings()
    with pytest.raises(SettingsError, match=r"settings\.tracker: unknown key"):
        create_emulator("tracker", core, {"polling": True})
    with pytest.raises(SettingsError, match=r"settings\.tracker\.polling_violations_to_disable"):
        create_emulator("tracker", core, {"polling_violations_to_disable": "ten"})
    with pytest.raises(SettingsError, match="auto_disposition_scope"):
        create_emulator("tracker", core, {"auto_disposition_scope": "everything"})
    defaults = TrackerSettings()
    assert (defaults.polling_repeat_window, defaults.polling_violations_to_disable) == (60.0, 10)
    assert defaults.polling_violation_window == 3600.0


def test_reset_restores_the_fixtures(tracker: EmulatorHandle, api: Api) -> None:
    api.post(
        "/api/people",
        {
            "person": {
                "id": 0,
                "businessName": "Acme",
                "raceId": 1,
                "genderId": 1,
                "active": True,
                "deceased": False,
                "juvenile": False,
            }
        },
    )
    tracker.control.call("POST", "items", json={"item": {"primaryCaseId": 2933671}})
    tracker.reset()
    assert api.get("/api/items/seqOrgItemHistoryId/3").status_code == 204
    assert api.get("/api/people/typeahead", params={"search": "acme"}).json()["people"] == []


def test_importing_and_building_the_emulator_leaves_faker_alone() -> None:
    code = (
        "import sys\n"
        "from trackmock.core.settings import CoreSettings\n"
        "from trackmock.vendors import create_emulator\n"
        "create_emulator('tracker', CoreSettings())\n"
        "assert 'faker' not in sys.modules, 'faker was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _generate(**kwargs: Any) -> Any:
    import importlib.util

    path = fixtures_dir() / "tracker" / "generate.py"
    spec = importlib.util.spec_from_file_location("tracker_generate_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(**kwargs)


def test_the_generator_is_seeded() -> None:
    args = {"items": 30, "items_per_case": 7, "officer_ids": [1, 2], "offense_type_ids": [1]}
    first = _generate(seed=3, **args)
    assert first == _generate(seed=3, **args)
    assert first != _generate(seed=4, **args)
    assert len(first["cases"]) == 5
    assert [item["case"] for item in first["items"]][-3:] == [3, 4, 4]


def test_volume_loads_generated_items_with_their_feed(make_emulator: Any) -> None:
    handle = make_emulator("tracker", tracker={"volume": 300, "volume_items_per_case": 50})
    api = Api(handle)
    last = api.get("/api/items/seqOrgItemHistoryId/302")
    assert last.status_code == 200
    record = last.json()["item"][0]
    assert (record["historyType"], record["seqOrgItemHistoryId"]) == (1, 302)
    assert api.get("/api/items/seqOrgItemHistoryId/303").status_code == 204
    cases = api.post("/api/cases/search", {"pageSize": 100}).json()
    assert cases["count"] == 7  # the documents' case and six generated
    item_id = record["item"]["id"]
    assert api.get(f"/api/items/{item_id}/coc").json()[0]["transactionType"] == "Check In"
    same = Api(make_emulator("tracker", tracker={"volume": 300, "volume_items_per_case": 50}))
    assert same.get("/api/items/seqOrgItemHistoryId/302").json() == last.json()
