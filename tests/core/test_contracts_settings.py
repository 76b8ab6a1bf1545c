"""Contract loading and operations; the control API's own document; settings parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from trackmock.core.contracts import Contract, ContractError, concrete_siblings
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


def test_concrete_siblings_are_the_literals_a_templated_segment_must_not_match() -> None:
    paths = ["/a/{id}", "/a/search", "/a/{id}/x", "/a/b/x", "/r/{c}/{id}", "/r/{c}/batch"]
    # Two segments that differ both ways (/q/{x}/c, /q/b/{y}) make neither more concrete.
    paths += ["/q/{x}/c", "/q/b/{y}"]
    assert concrete_siblings(paths) == {
        ("/a/{id}", "id"): {"search"},
        ("/a/{id}/x", "id"): {"b"},
        ("/r/{c}/{id}", "id"): {"batch"},
    }


def _siblings_pair_by_pair(paths: list[str]) -> dict[tuple[str, str], set[str]]:
    """``concrete_siblings`` as its definition reads: every pair of paths that differ in one
    segment only, where that segment is templated in one and literal in the other."""
    found: dict[tuple[str, str], set[str]] = {}
    for path in paths:
        parts = path.strip("/").split("/")
        for other in paths:
            theirs = other.strip("/").split("/")
            if len(theirs) != len(parts):
                continue
            differ = [i for i, (a, b) in enumerate(zip(parts, theirs, strict=True)) if a != b]
            if len(differ) == 1:
                mine, literal = parts[differ[0]], theirs[differ[0]]
                if mine.startswith("{") and not literal.startswith("{"):
                    found.setdefault((path, mine[1:-1]), set()).add(literal)
    return found


_SEGMENTS = st.sampled_from(["a", "b", "search", "{id}", "{c}"])


@given(
    st.lists(
        st.builds(
            lambda parts, slash: "/" + "/".join(parts) + slash,
            st.lists(_SEGMENTS, min_size=1, max_size=4),
            st.sampled_from(["", "/"]),
        ),
        max_size=10,
    )
)
def test_concrete_siblings_agree_with_their_definition_pair_by_pair(paths: list[str]) -> None:
    assert concrete_siblings(paths) == _siblings_pair_by_pair(paths)


def test_a_contract_reads_files_it_refers_to_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "Error.json").write_text(
        '{"type": "object", "required": ["error"], "properties": {"error": {"$ref": "Text.json"}}}'
    )
    (tmp_path / "shared" / "Text.json").write_text('{"type": "string"}')
    (tmp_path / "vendor").mkdir()
    document = tmp_path / "vendor" / "openapi.yaml"
    document.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components: {schemas: {Error: {$ref: '../shared/Error.json'}}}\n"
    )
    contract = Contract.from_path(document)
    validator = contract.validator(contract.location("components", "schemas", "Error"))
    assert validator.is_valid({"error": "no"})
    assert not validator.is_valid({"error": 1})
