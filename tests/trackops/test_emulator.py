"""The emulator as a whole: every operation handled, settings, plain HTTP, generated volume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from trackmock.core.contracts import read_document
from trackmock.core.settings import CoreSettings, SettingsError
from trackmock.fixtures.trackops.generate import generate
from trackmock.pytest_plugin import EmulatorHandle
from trackmock.trackops.catalog import load_catalog
from trackmock.vendors import create_emulator

from ..vendor_docs import limitations
from .helpers import CONTRACT_PATH, FIXTURES, SAM, Api, contract


@pytest.fixture(scope="module")
def plain() -> Any:
    """An emulator object (not served) for checks of its wiring."""
    return create_emulator("trackops", CoreSettings(clock_frozen=True), {"plain_http": True})


def test_every_operation_of_both_contracts_has_a_handler(plain: Any) -> None:
    operations = list(contract().operations.values())
    assert len(operations) == 74
    admin = plain.admin.vendor_contract
    for operation in [*operations, *admin.operations.values()]:
        assert callable(plain.provider.handler_for(operation)), operation.id


def test_the_control_actions_name_every_store(plain: Any) -> None:
    stores = set(load_catalog(contract()).records)
    admin = yaml.safe_load((CONTRACT_PATH.parent / "admin.yaml").read_text())
    enum = admin["components"]["parameters"]["Collection"]["schema"]["enum"]
    assert set(enum) == stores
    assert len(stores) == 32
    assert {path.stem for path in FIXTURES.glob("*.json")} - stores == {"accounts", "lookups"}


def test_the_vendor_page_states_the_limitations() -> None:
    doc = limitations("trackops")
    for inferred in ("Sixteen objects", "error body", "download link", "201"):
        assert inferred in doc


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"max_per_page": 101}, "max_per_page"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"download_url_ttl": 0}, "download_url_ttl"),
        ({"volume": -1}, "volume"),
        ({"colour": "red"}, "unknown key"),
        ({"plain_http": "yes"}, "plain_http"),
        ({"default_subdomain": "nosuch"}, "default_subdomain"),
    ],
)
def test_bad_settings_are_refused_by_name(section: dict[str, Any], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        create_emulator("trackops", CoreSettings(), section)


@pytest.mark.behaviour("TO-01")
def test_plain_http_is_only_served_when_asked(make_emulator: Any, tmp_path: Any) -> None:
    handle: EmulatorHandle = make_emulator(
        "trackops", trackops={"plain_http": True, "rate_limit": None}
    )
    assert handle.url.startswith("http://")
    assert handle.ca_cert is None
    assert Api(handle).get("/api/v1/clients", advance=0).status_code == 200
    tls = make_emulator("trackops", trackops={"tls_dir": str(tmp_path)})
    assert tls.ca_cert == str(tmp_path / "trackmock-ca.pem")


def test_the_generator_is_seeded_exact_and_consistent(plain: Any) -> None:
    fixtures = plain.provider.fixture_files
    made = generate(
        5000, seed=7, fixture_records=fixtures.records, lookups=fixtures.lookups, end=1740132000.0
    )
    again = generate(
        5000, seed=7, fixture_records=fixtures.records, lookups=fixtures.lookups, end=1740132000.0
    )
    assert made == again
    assert sum(len(rows) for rows in made.values()) == 5000
    catalog = plain.provider.catalog
    account = plain.provider.store.account("mycompany")
    for name, rows in made.items():
        account.load(name, [plain.provider.shapes[name](row) for row in rows])
    for name, rows in made.items():
        record_type = catalog.records[name]
        validator = plain.contract.validator(record_type.schema)
        created = [row["created_at"] for row in rows]
        assert created == sorted(created), f"{name}: ids grow with created_at"
        assert created[0] > max(r["created_at"] for r in fixtures.records[name] or [rows[0]])
        for row in rows:
            shaped = plain.provider.shapes[name](row)
            assert not list(validator.iter_errors(shaped)), (name, row)
            for spec in record_type.relations:
                value = shaped.get(spec.name)
                for key in value if isinstance(value, list) else [value]:
                    assert key is None or account.exists(spec.relation, key), (name, spec.name)
    plain.provider.reset()


def test_volume_is_loaded_at_reset_and_deep_pages_work(make_emulator: Any) -> None:
    handle: EmulatorHandle = make_emulator("trackops", trackops={"volume": 3000})
    api = Api(handle)
    fixture_count = sum(
        len(read_document(path))
        for path in FIXTURES.glob("*.json")
        if path.stem not in ("accounts", "lookups")
    )
    stores = load_catalog(contract()).records
    assert sum(len(api.records(name)) for name in stores) == fixture_count + 3000
    cases = api.get("/api/v1/cases?mode=count", auth=SAM, advance=0).json()["record_count"]
    last = api.get(f"/api/v1/cases?dir=asc&per_page=1&page={cases}", advance=1).json()
    assert last == api.get("/api/v1/cases?per_page=1", advance=1).json(), "deep page = newest"
    handle.reset()
    assert len(api.records("cases")) == cases, "the same volume after a reset"


def test_the_temporary_tls_folder_is_removed_on_a_clean_stop(tmp_path: Any) -> None:
    from trackmock.pytest_plugin import start_emulator

    handle, runner = start_emulator("trackops", {})
    made = Path(str(handle.ca_cert)).parent
    assert made.name.startswith("trackmock-tls-")
    assert made.is_dir()
    runner.stop()
    assert not made.exists()
    _, runner = start_emulator("trackops", {"trackops": {"tls_dir": str(tmp_path)}})
    runner.stop()
    assert (tmp_path / "trackmock-ca.pem").is_file(), "a folder that was given is left alone"
