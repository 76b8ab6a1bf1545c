"""Contract loading and operations; the control API's own document; settings parsing."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from trackmock.core.contracts import Contract, ContractError
from trackmock.core.paths import contracts_dir
from trackmock.core.settings import CoreSettings, SettingsError, from_mapping, split_settings

from .sample.provider import CONTRACT


def test_the_control_api_document_is_valid_openapi() -> None:
    document, uri = read_from_filename(str(contracts_dir() / "admin" / "openapi.yaml"))
    validate(document, base_uri=uri)


def test_operations_merge_parameters_and_resolve_bodies_and_responses() -> None:
    contract = Contract.from_path(CONTRACT)
    listing = contract.operations["listWidgets"]
    assert listing.method == "GET"
    assert [p.name for p in listing.parameters] == ["per_page", "color", "ids", "X-Tenant"]
    assert listing.secured
    assert not contract.operations["ping"].secured
    create = contract.operations["createWidget"]
    assert set(create.body) == {"application/json", "application/x-www-form-urlencoded"}
    assert create.body_required
    assert contract.operations["getWidget"].rule == "/api/widgets/<id>"
    assert listing.response(429) is not None
    assert listing.response(418) is None


def test_refs_that_do_not_resolve_are_named() -> None:
    contract = Contract.from_dict({"openapi": "3.1.0", "paths": {}})
    with pytest.raises(ContractError, match="does not resolve"):
        contract.resolve(contract.uri + "#/components/schemas/Nope")


def test_duplicate_operation_ids_are_refused() -> None:
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/a": {"get": {"operationId": "same", "responses": {}}},
            "/b": {"get": {"operationId": "same", "responses": {}}},
        },
    }
    with pytest.raises(ContractError, match="used twice"):
        _ = Contract.from_dict(document).operations


def test_settings_refuse_unknown_keys_and_wrong_types() -> None:
    with pytest.raises(SettingsError, match="unknown key"):
        from_mapping(CoreSettings, {"strikt": True})
    with pytest.raises(SettingsError, match=r"settings\.journal_size: expected an integer"):
        from_mapping(CoreSettings, {"journal_size": "big"})
    core, sections = split_settings({"seed": 3, "tracker": {"x": 1}}, ["tracker", "track"])
    assert core.seed == 3
    assert sections == {"tracker": {"x": 1}, "track": {}}
