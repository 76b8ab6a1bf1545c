"""``diff`` and ``check`` on real public API descriptions (Traccar's OpenAPI 3.1 and Swagger
2.0, see realworld/README.md), on OpenAPI 3.0 specifics, and on documents nobody expected:
every hand-made change is found, a renamed path parameter is no change, nothing else is
reported, and an unusable document is one line and exit 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from trackmock.drift.har import har_entry

from .support import run_cli, write_har

HERE = Path(__file__).parent / "realworld"
OPENAPI = HERE / "traccar-openapi.yaml"
SWAGGER = HERE / "traccar-swagger-v4.0.json"
DEVICE_CHANGES = [
    ("field-renamed", "phone"),
    ("field-removed", "category"),
    ("field-added", "protocol"),
    ("field-now-required", "name"),
    ("field-now-required", "uniqueId"),
    ("enum-narrowed", "status"),
    ("type-changed", "disabled"),
    ("format-changed", "lastUpdate"),
    ("constraint-changed", "name"),
]


def _diff(old: Path, new: Path) -> tuple[int, list[tuple[str, str, str, bool]]]:
    code, out, err = run_cli("diff", old, new, "--format", "json")
    assert "Traceback" not in err
    document = json.loads(out)
    return code, [
        (op["operation"], f["kind"], f["path"], f["breaking"])
        for op in document["operations"]
        for f in op["findings"]
    ]


def _device_findings(operation: str, prefix: str) -> set[tuple[str, str, str]]:
    return {(operation, kind, prefix + field) for kind, field in DEVICE_CHANGES}


@pytest.mark.parametrize("document", [OPENAPI, SWAGGER], ids=["openapi-3.1", "swagger-2.0"])
def test_a_real_document_compared_with_itself_has_no_change(document: Path) -> None:
    code, findings = _diff(document, document)
    assert (code, findings) == (0, [])


def test_every_hand_change_to_traccar_openapi_is_found_and_nothing_else() -> None:
    code, findings = _diff(OPENAPI, HERE / "traccar-openapi-changed.yaml")
    found = {(op, kind, path) for op, kind, path, _ in findings}
    expected = {
        ("getAudit", "operation-removed", "(operation)"),
        ("getDevicesIdStatus", "operation-added", "(operation)"),
        ("getHealth", "operation-moved", "(operation)"),
        ("getDevices", "parameter-removed", "parameter query keyword"),
        ("getDevices", "parameter-added", "parameter query scope"),
        ("getDevices", "parameter-now-required", "parameter query limit"),
        ("getDevices", "status-removed", "response 400"),
        ("getDevices", "status-added", "response 429"),
        ("getPositions", "media-type-removed", "response 200"),
        ("getPositions", "media-type-added", "response 200"),
        ("putDevicesId", "security-changed", "(security)"),
        ("postSessionToken", "request-body-now-required", "request body"),
        ("getReportsRouteType", "enum-widened", "parameter path type: (value)"),
        ("postAttributesComputedTest", "alternatives-changed", "response 200: (body)"),
        ("postNotificationsSendNotificator", "field-now-optional", "request body: body"),
    }
    expected |= _device_findings("getDevicesId", "response 200: ")
    expected |= _device_findings("getDevices", "response 200: [].")
    expected |= _device_findings("postDevices", "request body: ")
    assert expected <= found
    # Each Device change shows once per place a Device is read or written, and nowhere else:
    # 4 operations answer one, 2 take one, so 9 changes x 6 places, plus the 15 above.
    assert len(findings) == 9 * 6 + 15
    assert not any("Groups" in op for op, *_ in findings), "a renamed path parameter is no change"
    breaking = {(op, kind): b for op, kind, _, b in findings}
    assert breaking[("getAudit", "operation-removed")]
    assert not breaking[("getDevicesIdStatus", "operation-added")]
    assert code == 1


def test_every_hand_change_to_traccar_swagger_is_found_and_nothing_else() -> None:
    code, findings = _diff(SWAGGER, HERE / "traccar-swagger-v4.0-changed.json")
    found = {(op, kind, path) for op, kind, path, _ in findings}
    expected = {
        ("GET /statistics", "operation-removed", "(operation)"),
        ("GET /devices/{id}/status", "operation-added", "(operation)"),
        ("GET /positions", "parameter-removed", "parameter query to"),
        ("GET /positions", "parameter-added", "parameter query scope"),
        ("GET /positions", "parameter-now-required", "parameter query from"),
        ("GET /positions", "media-type-removed", "response 200"),
        ("GET /positions", "media-type-added", "response 200"),
        ("GET /session", "status-removed", "response 404"),
        ("GET /devices", "status-added", "response 429"),
        ("PUT /server", "security-changed", "(security)"),
        ("GET /devices", "constraint-changed", "response 200: [].geofenceIds"),
    }
    expected |= _device_findings("GET /devices", "response 200: [].")
    expected |= _device_findings("POST /devices", "request body: ")
    # The path parameter renamed: the operation keeps its pairing, under the new template.
    expected |= _device_findings("PUT /devices/{deviceId}", "request body: ")
    assert expected <= found
    # 9 Device changes plus geofenceIds' maxItems, at 5 places; plus the 10 others above.
    assert len(findings) == 10 * 5 + 10
    assert not any(op == "PUT /devices/{id}" for op, *_ in findings)
    assert code == 1


def test_check_takes_a_real_document_as_the_contract(tmp_path: Path) -> None:
    device = {"id": 1, "name": "Tracker 1", "uniqueId": "1001", "status": "online"}
    entries = [
        # Swagger 2.0 serves under basePath /api; the request carries it.
        har_entry("GET", "https://demo.traccar.org/api/devices", 200, body=json.dumps([device])),
        har_entry(
            "PUT",
            "https://demo.traccar.org/api/devices/1",
            200,
            body=json.dumps({**device, "disabled": "no", "brandNew": 1}),
        ),
    ]
    capture = write_har(tmp_path / "traccar.har", entries)
    for document in (OPENAPI, SWAGGER):
        code, out, err = run_cli(
            "check", "--vendor", "track", "--contracts", document, capture, "--format", "json"
        )
        report = json.loads(out)
        kinds = {(f["kind"], f["path"]) for op in report["operations"] for f in op["findings"]}
        assert kinds == {("type-changed", "disabled"), ("undocumented-field", "brandNew")}, err
        assert report["summary"]["exchanges"] == 2
        assert code == 1


OPENAPI_30 = """\
openapi: 3.0.3
info: {title: Zoo, version: "1"}
paths:
  /animals/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Animal"}
components:
  schemas:
    Animal:
      oneOf: [{$ref: "#/components/schemas/Cat"}, {$ref: "#/components/schemas/Dog"}]
    Base:
      type: object
      required: [kind, name]
      properties:
        kind: {type: string, enum: [cat, dog]}
        name: {type: string, nullable: true}
        age: {type: integer, minimum: 0, exclusiveMinimum: true}
        parent: {$ref: "#/components/schemas/Animal"}
        friends: {type: array, items: {$ref: "#/components/schemas/Animal"}}
    Cat:
      allOf:
        - {$ref: "#/components/schemas/Base"}
        - {type: object, properties: {meows: {type: boolean}}}
    Dog:
      allOf:
        - {$ref: "#/components/schemas/Base"}
        - {type: object, properties: {barks: {type: boolean}}}
"""


def test_openapi_30_recursive_schemas_all_of_and_one_of(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(OPENAPI_30)
    new = tmp_path / "new.yaml"
    new.write_text(
        OPENAPI_30.replace("/animals/{id}", "/animals/{animalId}")
        .replace("name: id,", "name: animalId,")
        .replace("meows: {type: boolean}", "meows: {type: string}")
        .replace("enum: [cat, dog]", "enum: [cat, dog, bird]")
    )
    code, findings = _diff(old, new)
    # The recursive schema is followed once into each place it recurs, and no further.
    assert {(kind, path, breaking) for _, kind, path, breaking in findings} == {
        (kind, f"response 200: {where}{field}", True)
        for where in ("", "parent.", "friends[].")
        for kind, field in (("type-changed", "meows"), ("enum-widened", "kind"))
    }
    assert code == 1
    # check: nullable is 3.0's null, exclusiveMinimum: true a strict bound, recursion works.
    cat = {"kind": "cat", "name": None, "age": 0, "meows": True}
    body = {**cat, "parent": {**cat, "name": "Tom"}, "friends": [{**cat, "kind": "dog"}]}
    capture = write_har(
        tmp_path / "zoo.har",
        [har_entry("GET", "https://zoo.example/animals/7", 200, body=json.dumps(body))],
    )
    code, out, _ = run_cli("check", "--vendor", "track", "--contracts", old, capture)
    assert "constraint-violated: age" in out
    assert "name" not in out.split("Result:")[0].split("GET /animals")[1]
    assert code == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("hello: 1\n", "not an OpenAPI 3.0 or 3.1, Swagger 2.0 or AsyncAPI document"),
        ("openapi: 3.1.0\npaths: [1]\n", "'paths' is not a mapping"),
        ("openapi: 3.1.0\npaths:\n  /a:\n    get:\n      parameters: [{name: q}]\n", "KeyError"),
        ("openapi: [3.1\n", "not valid YAML"),
        (
            "openapi: 3.1.0\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n"
            "          content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}\n"
            "components: {schemas: {A: {$ref: '#/components/schemas/B'},"
            " B: {$ref: '#/components/schemas/A'}}}\n",
            "$ref cycle",
        ),
        ("swagger: '2.0'\npaths: 5\n", "'paths' is not a mapping"),
    ],
    ids=["not-an-api", "paths-list", "parameter-without-in", "bad-yaml", "ref-cycle", "swagger"],
)
def test_an_unusable_document_is_one_line_and_exit_2(tmp_path: Path, text: str, says: str) -> None:
    document = tmp_path / "api.yaml"
    document.write_text(text)
    code, out, err = run_cli("diff", document, document)
    assert code == 2
    assert out == ""
    assert says in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_check_of_no_exchange_for_the_vendor_exits_3(tmp_path: Path) -> None:
    empty = write_har(tmp_path / "empty.har", [])
    code, out, err = run_cli("check", "--vendor", "tracker", empty)
    assert code == 3
    assert "nothing to check" in err
    assert "held no exchange" in err
    assert "Result:" in out, "the report is written all the same"


def test_check_of_traffic_matching_no_operation_exits_3(tmp_path: Path) -> None:
    entries = [
        har_entry("GET", "https://elsewhere.example/index.html", 200, body="<html>"),
        har_entry("GET", "https://vendor.example/api/devices", 200, body="[]"),
    ]
    capture = write_har(tmp_path / "other.har", entries)
    code, _, err = run_cli("check", "--vendor", "tracker", capture)
    assert code == 3
    assert "none of the 2 exchanges" in err
    assert "is --vendor right" in err
