"""What Schemathesis tests, and how: per emulator, the contract documents, the credentials, the
settings that relax throttling, and every departure from Schemathesis' defaults with its reason.

No operation is excluded. The departures are of two kinds:

- ``Tweak``: a check configured differently for one operation (for example a status the
  vendor documents that a check would otherwise count as a failure);
- ``BeyondSchema``: a 400 that the vendor documents for requests JSON Schema cannot tell from
  good ones (an id that names no record, a body id other than the path's). Only these, matched
  by their message, are accepted when Schemathesis' ``positive_data_acceptance`` sends
  schema-valid data; any other refusal of schema-valid data fails.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.openapi.checks import RejectedPositiveData
from trackmock.core.paths import contracts_dir

if TYPE_CHECKING:
    from schemathesis.schemas import BaseSchema
    from trackmock.pytest_plugin import EmulatorHandle

CONTRACTS = contracts_dir()


@dataclass(frozen=True)
class Profile:
    """How much Schemathesis generates. The coverage phase is exhaustive by design whatever
    the profile; ``max_examples`` bounds the examples and fuzzing phases (cases per operation),
    ``stateful_examples`` and ``stateful_steps`` the stateful one (scenarios, calls in each)."""

    name: str
    max_examples: int
    stateful_examples: int
    stateful_steps: int
    seed: int = 20250221


CI = Profile("ci", max_examples=10, stateful_examples=50, stateful_steps=10)
LONG = Profile("long", max_examples=250, stateful_examples=500, stateful_steps=20)


@dataclass(frozen=True)
class Tweak:
    """Schemathesis configuration for one operation, and why it differs from the default."""

    operation_id: str
    config: dict[str, Any]
    why: str


@dataclass(frozen=True)
class BeyondSchema:
    """A documented 400 for schema-valid data that breaks a rule JSON Schema cannot state."""

    message: str
    """A regular expression matched against the response body."""
    why: str


@dataclass(frozen=True)
class Target:
    """One contract document, tested against a fresh emulator of ``vendor``."""

    name: str
    vendor: str
    document: Path
    settings: dict[str, Any] = field(default_factory=dict)
    """Emulator settings (merged into the session's): relaxed throttling, never a skipped rule."""
    access: Callable[[EmulatorHandle], dict[str, Any]] | None = None
    """Schemathesis configuration that lets requests in (auth, headers, TLS)."""
    tenant: Callable[[EmulatorHandle], dict[str, str]] | None = None
    """Headers that name the caller's own data, set on every case whose headers are valid."""
    fresh: dict[str, dict[str, str]] = field(default_factory=dict)
    """operationId -> {dotted body field: template with ``{n}``}: fields that must be unique
    (a case number, an e-mail), made fresh in every valid body; the examples' values would
    otherwise collide with the record the first create made, and no chain would start."""
    beyond_schema: tuple[BeyondSchema, ...] = ()
    tweaks: tuple[Tweak, ...] = ()
    stateful: Literal["links", "inferred", "off"] = "links"
    """How the stateful phase runs: ``links`` follows the document's own OpenAPI links only
    (not Schemathesis' inferred ones, which starve them) and must follow at least one from a
    successful response; ``inferred`` adds Schemathesis' inferred links and requires no link;
    ``off`` skips the phase (the reason is written beside it)."""

    def load(self, handle: EmulatorHandle, profile: Profile, phases: tuple[str, ...]) -> BaseSchema:
        """The document as a Schemathesis schema aimed at ``handle``, hooks attached, that runs
        ``phases`` only."""
        every = ("examples", "coverage", "fuzzing", "stateful")
        config = {
            "base-url": handle.url,
            "seed": profile.seed,
            "workers": 1,  # one at a time: the same cases in the same order on every run
            "request-timeout": 10,
            "generation": {"max-examples": profile.max_examples, "database": "none"},
            "phases": {
                **{phase: {"enabled": phase in phases} for phase in every},
                "stateful": {
                    "enabled": "stateful" in phases,
                    "max-steps": profile.stateful_steps,
                    "generation": {"max-examples": profile.stateful_examples},
                    **({"inference": {"algorithms": []}} if self.stateful == "links" else {}),
                },
            },
            **(self.access(handle) if self.access is not None else {}),
        }
        config["operations"] = [
            {"include-operation-id": tweak.operation_id, **tweak.config} for tweak in self.tweaks
        ] + config.get("operations", [])
        schema = schemathesis.openapi.from_path(
            self.document, config=schemathesis.Config.from_dict(config)
        )
        tenant = self.tenant(handle) if self.tenant is not None else {}
        if tenant or self.fresh:
            schema.hooks.register_hook_with_name(_prepare(tenant, self.fresh), "map_case")
        if self.beyond_schema:
            schema.hooks.register_hook_with_name(
                _accept_beyond_schema(self.beyond_schema), "filter_failure"
            )
        return schema


def _prepare(tenant: dict[str, str], fresh: dict[str, dict[str, str]]) -> Callable[..., Any]:
    serial = itertools.count(1)

    def map_case(context: Any, case: Any) -> Any:
        # What a negative case breaks is left alone, so that those values are still tested.
        # The tenant is pinned through a hook, not Schemathesis' ``parameters`` setting, which
        # makes ``negative_data_rejection`` report the negated value it replaced.
        meta = case.meta
        if tenant and not (meta is not None and meta.is_negative_at(ParameterLocation.HEADER)):
            case.headers = {**(case.headers or {}), **tenant}
        fields = fresh.get(case.operation.definition.raw.get("operationId"), {})
        body_broken = meta is not None and meta.is_negative_at(ParameterLocation.BODY)
        if fields and isinstance(case.body, dict) and not body_broken:
            for path, template in fields.items():
                _set_string(case.body, path.split("."), template.format(n=next(serial)))
        return case

    return map_case


def _set_string(body: dict[str, Any], path: list[str], value: str) -> None:
    """Set a string field of ``body`` that is already there (never add or change a type)."""
    for key in path[:-1]:
        body = body.get(key)  # type: ignore[assignment]
        if not isinstance(body, dict):
            return
    if isinstance(body.get(path[-1]), str):
        body[path[-1]] = value


def _accept_beyond_schema(rules: tuple[BeyondSchema, ...]) -> Callable[..., bool]:
    patterns = [re.compile(rule.message) for rule in rules]

    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
        if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
            return True
        text = response.content.decode("utf-8", "replace")
        return not any(pattern.search(text) for pattern in patterns)

    return filter_failure


SNAPSHOT_BEYOND_SCHEMA = (
    BeyondSchema(r"this is a snapshot of", "a snapshot restores into its own vendor only"),
    BeyondSchema(r"cannot be read by this trackmock", "a trackmock reads its own version only"),
    BeyondSchema(r'"message":"state[.:\[]', "the state is the vendor's own (its store's parts)"),
)
"""``POST /__admin/snapshot``: a schema-valid envelope holds another vendor's state, or none."""


# -- Tracker ---------------------------------------------------------------------------------


def _tracker_access(handle: EmulatorHandle) -> dict[str, Any]:
    return {
        "auth": {"openapi": {"staticToken": {"bearer": handle.credentials["token"]}}},
        "headers": {"Accept": "application/json"},  # TR-04; OpenAPI cannot declare Accept
        "operations": [
            {
                # TR-05: GETs carry the form Content-Type (strict mode refuses them without);
                # OpenAPI ignores Content-Type header parameters, so it is set here.
                "include-method": "GET",
                "headers": {"Content-Type": "application/x-www-form-urlencoded"},
            }
        ],
    }


def _tracker_tenant(handle: EmulatorHandle) -> dict[str, str]:
    creds = handle.credentials
    return {
        "OrganizationId": str(creds["organizationId"]),
        "OfficeId": str(creds["officeId"]),
        "StaticToken": "true",
    }


TRACKER_BEYOND_SCHEMA = (
    BeyondSchema(r"is not a user of organization", "TR-02: officers are users of the organization"),
    BeyondSchema(r"is not an offense type of organization", "offense types of the organization"),
    BeyondSchema(r"is not a tag of organization", "TR-22: tags are the organization's"),
    BeyondSchema(r"is not an id of GET /api/", "lookup ids (races, genders, person types ...)"),
    BeyondSchema(r"Unknown permission groups", "groups of the organization"),
    BeyondSchema(r"is not an office of", "TR-02: offices of the organization"),
    BeyondSchema(r"must be the OrganizationId header's", "a body's organization is the header's"),
    BeyondSchema(r"is not a \w+ form of organization", "TR-21: forms of the organization"),
    BeyondSchema(r"cannot be given this access", "TR-25/26: groups of the access type"),
    BeyondSchema(
        r"The body's id \([^)]*\) is not the id in the URL", "a PUT body names its record"
    ),
    BeyondSchema(r"is not a field of the listed records", "orderBy names a field of the record"),
    BeyondSchema(r"autoDispoErrors", "TR-23: an offense type without auto-disposition settings"),
)

# -- Trackops --------------------------------------------------------------------------------


def _trackops_access(handle: EmulatorHandle) -> dict[str, Any]:
    creds = handle.credentials
    return {
        "auth": {
            "openapi": {"basicAuth": {"username": creds["username"], "password": creds["password"]}}
        },
        "tls-verify": handle.ca_cert,  # TO-01: TLS only, with the emulator's own CA
    }


TRACKOPS_BEYOND_SCHEMA = (
    BeyondSchema(r"does not name", "ids in bodies name records or settings of the account"),
    BeyondSchema(r"belongs to case \d+, not to case", "ids in one body belong to one case"),
    BeyondSchema(r"is not a contact of client", "a case's primary contact works for its client"),
    BeyondSchema(r"is not a \w+ custom field of this account", "custom fields of the account"),
    BeyondSchema(r"end_at is before start_at", "an event ends after it starts"),
    BeyondSchema(r"username '[^']*' is already taken", "logins are unique in the account"),
)

# -- Track -----------------------------------------------------------------------------------


def _track_access(handle: EmulatorHandle) -> dict[str, Any]:
    creds = handle.credentials
    # Basic auth, not the session cookie: fuzzing ``deleteSession`` would end a cookie session.
    return {
        "auth": {
            "openapi": {"basicAuth": {"username": creds["email"], "password": creds["password"]}}
        }
    }


TRACK_BEYOND_SCHEMA = (
    BeyondSchema(r"access denied: no \w+", "ids name records the user may see (Traccar's 400)"),
    BeyondSchema(r"Duplicate uniqueId", "device uniqueIds are unique (Traccar's 400)"),
    BeyondSchema(r"Give both from and to, or neither", "positions: from and to go together"),
    BeyondSchema(r"Bad time span: from .* is after to", "a span starts before it ends"),
)

CONTROL_BEYOND_SCHEMA = (
    BeyondSchema(r"does not exist", "Tracker: ids in a body name records"),
    BeyondSchema(r"not a valid \w+ at \$", "Trackops: a record's fields follow its store's schema"),
    BeyondSchema(r"does not name", "Trackops: ids in a body name records of the account"),
    BeyondSchema(r"only employees have an access level", "Trackops: client contacts have none"),
    BeyondSchema(r"id cannot change", "Trackops: a record keeps its id"),
    BeyondSchema(r"no user ", "Track: an e-mail names a user"),
    BeyondSchema(r"no such device or beacon", "Track: ids in a body name records"),
    BeyondSchema(r"is not a user of organization", "Tracker: the acting user is the item's org's"),
    BeyondSchema(r"not (device|beacon) fields", "Track: a change names fields of its record"),
)


CORE_CONTROL_BEYOND_SCHEMA = (
    *SNAPSHOT_BEYOND_SCHEMA,
    BeyondSchema(
        r"'latency_min_ms' must not be above 'latency_max_ms'",
        "a fault's latency range starts at or below where it ends",
    ),
)


def _control_access(handle: EmulatorHandle) -> dict[str, Any]:
    return {"tls-verify": handle.ca_cert} if handle.ca_cert else {}


RELAXED = {
    "tracker": {"tracker": {"polling_rule": False}},  # TR-07 would disable the account
    "trackops": {"trackops": {"rate_limit": None}},  # TO-04: 1 request per second
    "track": {},
}

TARGETS = (
    Target(
        "tracker-api",
        "tracker",
        CONTRACTS / "tracker" / "openapi.yaml",
        settings=RELAXED["tracker"],
        access=_tracker_access,
        tenant=_tracker_tenant,
        fresh={
            "createCase": {"caseNumber": "ST-{n}"},
            "createPerson": {
                "person.lastName": "Fresh{n}",
                "person.businessName": "Fresh {n} LLC",
                "person.driverLicence": "ST-{n}",
            },
            "createUser": {"email": "st{n}@example.com"},
        },
        beyond_schema=TRACKER_BEYOND_SCHEMA,
        tweaks=(
            Tweak(
                "createItem",
                {"checks": {"positive_data_acceptance": {"expected-statuses": ["405"]}}},
                "TR-13: items cannot be created through the API; the operation documents the 405",
            ),
        ),
    ),
    Target(
        "trackops-api",
        "trackops",
        CONTRACTS / "trackops" / "openapi.yaml",
        settings=RELAXED["trackops"],
        access=_trackops_access,
        fresh={"createStaffEmployee": {"username": "st{n}"}},
        beyond_schema=TRACKOPS_BEYOND_SCHEMA,
    ),
    Target(
        "track-api",
        "track",
        CONTRACTS / "track" / "openapi.yaml",
        settings=RELAXED["track"],
        access=_track_access,
        fresh={"createDevice": {"uniqueId": "st-{n}"}},
        beyond_schema=TRACK_BEYOND_SCHEMA,
        tweaks=(
            Tweak(
                "openSocket",
                {
                    "checks": {
                        "not_a_server_error": {"expected-statuses": ["2xx", "4xx", "503"]},
                        "missing_required_header": {"expected-statuses": ["400", "426", "503"]},
                        "negative_data_rejection": {
                            "expected-statuses": ["400", "401", "403", "404", "405", "426", "503"]
                        },
                    }
                },
                "SF-02: an upgrade without a session answers 503 (Traccar), whatever else it lacks"
                " (the session is checked first; Schemathesis sends Basic credentials, which the"
                " socket does not take); a Sec-WebSocket-Version other than 13 answers 426 Upgrade"
                " Required (RFC 6455 §4.4)",
            ),
        ),
    ),
    *(
        Target(
            f"{vendor}-control",
            vendor,
            CONTRACTS / vendor / "admin.yaml",
            settings=RELAXED[vendor],
            access=_control_access,
            beyond_schema=CONTROL_BEYOND_SCHEMA,
            # Control actions that create (an item, a record, a position) take ids of records no
            # control operation makes (a case, a device): random data seldom starts their links.
            stateful="inferred",
        )
        for vendor in ("tracker", "trackops", "track")
    ),
    *(
        Target(
            f"core-control-on-{vendor}",
            vendor,
            CONTRACTS / "admin" / "openapi.yaml",
            settings=RELAXED[vendor],
            access=_control_access,
            beyond_schema=CORE_CONTROL_BEYOND_SCHEMA,
            # The core control API makes nothing another call reads by id: no links to follow.
            stateful="off",
        )
        for vendor in ("tracker", "trackops", "track")
    ),
)
