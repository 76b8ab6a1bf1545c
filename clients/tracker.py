"""Reference client of the Tracker Products SAFE web API (SAFE API Overview and SAFE Edit a Case).

It does what the documents ask of a client: every required header on every call (TR-01..05);
a case edit is GET → change → PUT of the whole object, with a null ``formData`` sent as
``[]`` and 204 expected (TR-18, TR-19); form data checked against the form's schema before
it is sent (TR-21); missing auto-disposition settings fixed the way SAFE Edit a Case shows (TR-25);
the item feed polled from the stored last good id until there is no response (TR-15), no
more often than every 10 minutes, and the same GET never repeated within a minute (TR-07).
Waiting goes through an injectable clock, so tests move emulated time instead of sleeping.

Usage::

    client = TrackerClient("https://securelb.trackerproducts.com", token, 1, 1,
                           cursor_path="tracker-feed.sqlite3")
    case = client.get_case_by_number("2018-0521-01")
    for record in client.item_history():
        ...
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from .base import ClientError, Clock, SystemClock

log = logging.getLogger("trackmock.clients.tracker")

Record = dict[str, Any]
WARNING_HEADER = "X-Polling-Warning"
ACCESS_TYPES = {
    "listPermissionGroupIds": 1,
    "createPermissionGroupIds": 4,
    "updatePermissionGroupIds": 3,
}
"""The settings PUT's three arrays and the access type whose groups fill each (SAFE Edit a Case)."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class TrackerError(ClientError):
    """Any refusal from the Tracker API; ``status`` and ``body`` hold the answer."""


class AuthError(TrackerError):
    """401: no, unknown or non-static token (TR-01, TR-03)."""


class LicenseError(TrackerError):
    """403: no license is available for the token's user (TR-06)."""


class AccountDisabledError(TrackerError):
    """403: the account was disabled for polling too often (TR-07); ask Tracker support."""


class ForbiddenError(TrackerError):
    """403 for another reason: wrong organization or office (TR-02), orgAdmin needed."""


class AutoDispositionError(TrackerError):
    """400 ``autoDispoErrors``: settings are missing for an offense type (TR-23)."""

    @property
    def errors(self) -> list[str]:
        return list(self.body.get("autoDispoErrors", [])) if isinstance(self.body, dict) else []


class NotFoundError(TrackerError):
    """404: no such case, person, user or item."""


class ConflictError(TrackerError):
    """409: a duplicate (case number, person, e-mail, person already on the case)."""


class ValidationError(TrackerError):
    """400 or 415: the request was refused as invalid; ``model_state`` names the fields."""

    @property
    def model_state(self) -> dict[str, list[str]]:
        state = self.body.get("modelState") if isinstance(self.body, dict) else None
        return dict(state or {})


class FormDataError(ValidationError):
    """Form data that does not fit the form's schema, found before sending it (TR-21)."""


def form_data_problems(form: Record, values: Record) -> list[str]:
    """What is wrong with ``values`` for ``form``: unknown fields, values not among options."""
    try:
        fields = {f["name"]: f for f in json.loads(form["schema"]).get("fields", [])}
    except (ValueError, AttributeError, TypeError, KeyError):
        return [f"form {form.get('id')} has no readable schema"]
    problems = []
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            problems.append(f"{name} is not a field of form {form['name']} ({', '.join(fields)})")
        elif isinstance(field.get("options"), list):
            allowed = [str(o.get("value")) for o in field["options"]]
            if value is not None and str(value) not in allowed:
                problems.append(f"{name}: {value!r} is not one of {allowed}")
        elif field.get("type") == "email" and value and not _EMAIL.fullmatch(str(value)):
            problems.append(f"{name}: {value!r} is not an e-mail address")
    return problems


class CursorStore:
    """The feed cursor in SQLite: the last good SeqOrgItemHistoryID and when polling last began.

    Args:
        path: the database file; None keeps it in memory (lost with the client).
        name: which cursor (one per API host and organization).
    """

    def __init__(self, path: str | Path | None, name: str) -> None:
        self.name = name
        self._memory = sqlite3.connect(":memory:") if path is None else None
        self._path = path
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS cursor "
                "(name TEXT PRIMARY KEY, last_good INTEGER NOT NULL, last_poll REAL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return self._memory or sqlite3.connect(str(self._path))

    def load(self) -> tuple[int, float | None]:
        db = self._connect()
        row = db.execute(
            "SELECT last_good, last_poll FROM cursor WHERE name = ?", (self.name,)
        ).fetchone()
        if db is not self._memory:
            db.close()
        return (0, None) if row is None else (int(row[0]), row[1])

    def save(self, last_good: int, last_poll: float | None) -> None:
        db = self._connect()
        with db:
            db.execute(
                "INSERT INTO cursor (name, last_good, last_poll) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET last_good = excluded.last_good, "
                "last_poll = excluded.last_poll",
                (self.name, last_good, last_poll),
            )
        if db is not self._memory:
            db.close()


class TrackerClient:
    """A client of one organization and office of a SAFE instance.

    Args:
        base_url: the API host (``https://securelb.trackerproducts.com``, or a customer's).
        token: a static token; one of an orgAdmin user with a reserved license is advised.
        organization_id, office_id: the ``OrganizationId`` and ``OfficeId`` to act in.
        clock: where the client reads time and waits (tests pass the emulator's).
        cursor_path: SQLite file keeping the item feed's cursor across restarts.
        poll_interval: seconds between two polls of the item feed (10 minutes advised).
        repeat_interval: the same GET is never sent twice within this many seconds (the
            rule is a minute; one second more absorbs the skew between client and server).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        organization_id: int,
        office_id: int,
        *,
        clock: Clock | None = None,
        cursor_path: str | Path | None = None,
        poll_interval: float = 600.0,
        repeat_interval: float = 61.0,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        verify: Any = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.organization_id = organization_id
        self.clock: Clock = clock or SystemClock()
        self.poll_interval = poll_interval
        self.repeat_interval = repeat_interval
        self.timeout = timeout
        self.verify = verify
        self.http = session or requests.Session()
        self.http.headers.update(
            {
                "Accept": "application/json",
                "Authorization": f"Bearer {token}",
                "OrganizationId": str(organization_id),
                "OfficeId": str(office_id),
                "StaticToken": "true",
            }
        )
        self.cursor = CursorStore(cursor_path, f"{self.base_url}#{organization_id}")
        self.warnings: list[str] = []
        """Polling warnings the API sent (there should be none)."""
        self._last_get: dict[str, float] = {}

    # -- HTTP ------------------------------------------------------------------------------------

    def _get(self, path: str, **params: Any) -> Any:
        """A GET, never the same one twice within ``repeat_interval`` (TR-07)."""
        key = path + "?" + urlencode(sorted(params.items()))
        now = self.clock.now()
        last = self._last_get.get(key)
        if last is not None and now - last < self.repeat_interval:
            self.clock.sleep(self.repeat_interval - (now - last))
            now = last + self.repeat_interval
        if len(self._last_get) > 256:
            self._last_get = {
                k: t for k, t in self._last_get.items() if now - t < self.repeat_interval
            }
        self._last_get[key] = now
        # The API overview lists this Content-Type as required; working clients send it on GETs.
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self._send("GET", path, params=params, headers=headers)

    def _send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200, 204),
    ) -> Any:
        # ``verify`` per call: requests lets REQUESTS_CA_BUNDLE override a session's.
        response = self.http.request(
            method,
            self.base_url + path,
            params=params,
            json=body if method != "GET" else None,
            headers=headers,
            timeout=self.timeout,
            verify=self.verify,
        )
        warning = response.headers.get(WARNING_HEADER)
        if warning:
            self.warnings.append(warning)
            log.warning("Tracker polling warning on %s %s: %s", method, path, warning)
        if response.status_code >= 400:
            raise _error(method, path, response)
        if response.status_code not in expect:
            raise TrackerError(
                f"{method} {path}: expected {expect}, got {response.status_code}",
                status=response.status_code,
                body=response.text,
            )
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- cases -----------------------------------------------------------------------------------

    def get_case_by_number(self, number: str) -> Record:
        """The case with that number; its ``id`` is the PrimaryCaseID (TR-09)."""
        return self._get("/api/cases/getByNumber", value=number)  # type: ignore[no-any-return]

    def get_case(self, case_id: int) -> Record:
        return self._get(f"/api/cases/{case_id}")  # type: ignore[no-any-return]

    def create_case(self, case: Record) -> Record:
        """POST a new case; ``formData`` and ``tags`` default to empty lists."""
        body = {"active": True, "formData": [], "tags": [], **_v100(case)}
        if body["formData"] is None:
            body["formData"] = []
        return self._send("POST", "/api/cases", body)  # type: ignore[no-any-return]

    def update_case(self, case: Record) -> None:
        """PUT the whole case; a null ``formData`` goes as ``[]`` (TR-19); expects 204."""
        body = _v100(case)
        if body.get("formData") is None:
            body["formData"] = []
        self._send("PUT", f"/api/cases/{body['id']}", body, expect=(204,))

    def edit_case(self, number: str, change: Callable[[Record], Record | None]) -> Record:
        """GET the case, let ``change`` edit it (in place or by returning it), PUT it (TR-18)."""
        case = self.get_case_by_number(number)
        changed = change(case) or case
        self.update_case(changed)
        return changed

    def list_forms(self, form_type: str = "Cases") -> list[Record]:
        """Custom forms: ``All``, ``Cases``, ``Items`` or ``People`` (TR-20)."""
        return self._get("/api/forms", formType=form_type)  # type: ignore[no-any-return]

    def add_form_data(self, number: str, form: int | str, values: Record) -> Record:
        """Fill a case form (by id or name), checked against its schema first (TR-21)."""
        found = [f for f in self.list_forms("Cases") if form in (f["id"], f["name"])]
        if not found:
            raise NotFoundError(f"no case form {form!r}")
        problems = form_data_problems(found[0], values)
        if problems:
            raise FormDataError("; ".join(problems), body={"modelState": {"data": problems}})

        def add(case: Record) -> None:
            entries = [e for e in case.get("formData") or [] if e["formId"] != found[0]["id"]]
            entries.append(
                {
                    "formId": found[0]["id"],
                    "formName": found[0]["name"],
                    "data": json.dumps(values, separators=(",", ":")),
                    "entityId": str(case["id"]),
                    "dateFields": [],
                }
            )
            case["formData"] = entries

        return self.edit_case(number, add)

    def list_tags(self) -> list[Record]:
        return self._get("/api/tags")  # type: ignore[no-any-return]

    def add_tag(self, number: str, tag: int | str) -> Record:
        """Put an existing tag (by id or name) on a case (TR-22)."""
        found = [t for t in self.list_tags() if tag in (t["id"], t["name"])]
        if not found:
            raise NotFoundError(f"no tag {tag!r}")

        def add(case: Record) -> None:
            if all(t["tagModelId"] != found[0]["id"] for t in case["tags"]):
                case["tags"] = [
                    *case["tags"],
                    {"tagModelId": found[0]["id"], "name": found[0]["name"]},
                ]

        return self.edit_case(number, add)

    # -- auto disposition (SAFE Edit a Case) ------------------------------------------------------

    def get_auto_disposition_settings(self) -> Record:
        return self._get("/api/autoDisposition/settings/")  # type: ignore[no-any-return]

    def auto_disposition_groups(self, access_type: int) -> list[Record]:
        return self._get(f"/api/autoDisposition/{access_type}/groups/")  # type: ignore[no-any-return]

    def fix_auto_disposition(self, days_to_follow_up: int = 100) -> list[str]:
        """Add settings for every offense type without them (``id`` 0), as SAFE Edit a Case shows:
        only those types, with the three permission-group arrays. Needs an orgAdmin token.
        Returns the names of the offense types fixed."""
        current = self.get_auto_disposition_settings()
        missing = [s for s in current["settings"] if s["id"] == 0]
        if not missing:
            return []
        body: Record = {
            "isAutoDispositionOn": current["isAutoDispositionOn"],
            "officeAutoDispositionReviewers": current["officeAutoDispositionReviewers"],
            "settings": [
                {**s, "organizationId": self.organization_id, "daysToFollowUp": days_to_follow_up}
                for s in missing
            ],
        }
        for array, access_type in ACCESS_TYPES.items():
            body[array] = [g["id"] for g in self.auto_disposition_groups(access_type)]
        self._send("PUT", "/api/autoDisposition/settings/", body, expect=(200, 204))
        return [s["offenseType"]["name"] for s in missing]

    # -- persons and users -----------------------------------------------------------------------

    def create_person(
        self, person: Record, address: Record | None = None, *, case_id: int | None = None
    ) -> Record:
        """POST a person with an address, entered on a case when ``case_id`` is given (TR-10).
        Race and gender default to 1 (Unknown)."""
        defaults = {"raceId": 1, "genderId": 1, "active": True, "deceased": False}
        body: Record = {"person": {**defaults, "juvenile": False, **person, "id": 0}}
        if address is not None:
            body["address"] = {"isDefaultAddress": True, **address, "id": 0, "entityId": 0}
        if case_id is not None:
            body["caseId"] = case_id
        return self._send("POST", "/api/people", body)  # type: ignore[no-any-return]

    def get_person(self, person_id: int) -> Record:
        return self._get(f"/api/people/{person_id}")  # type: ignore[no-any-return]

    def update_person(self, person: Record) -> None:
        self._send("PUT", f"/api/people/{person['id']}", person, expect=(204,))

    def add_person_to_case(
        self, case_id: int, person_id: int, type_id: int, notes: str | None = None
    ) -> Record:
        """Put an existing person on an existing case with a person type as role (TR-11)."""
        body = {"personId": person_id, "typeId": type_id, "notes": notes}
        return self._send("POST", f"/api/people/addPersonToCase/{case_id}", body)  # type: ignore[no-any-return]

    def case_people(self, case_id: int) -> list[Record]:
        """The people of a case by its PrimaryCaseID (TR-12)."""
        return self._get(f"/api/cases/{case_id}/people")  # type: ignore[no-any-return]

    def create_user(self, user: Record) -> Record:
        """POST a system user (TR-08); the e-mail must be unused across the whole system."""
        body = {"organizationId": self.organization_id, "groups": [], **user}
        body.setdefault("officeId", int(self.http.headers["OfficeId"]))
        return self._send("POST", "/api/users/", body)  # type: ignore[no-any-return]

    def get_user(self, user_id: int) -> Record:
        return self._get(f"/api/users/{user_id}")  # type: ignore[no-any-return]

    # -- items -----------------------------------------------------------------------------------

    def get_item(self, item_id: int) -> Record:
        return self._get(f"/api/items/{item_id}")  # type: ignore[no-any-return]

    def chain_of_custody(self, item_id: int) -> list[Record]:
        """Custody records of an item, by its root-level ``id`` (TR-16)."""
        return self._get(f"/api/items/{item_id}/coc")  # type: ignore[no-any-return]

    def item_history(self) -> list[Record]:
        """New item history records since the last poll, oldest first (TR-15).

        Polls SeqOrgItemHistoryID last+1, last+2, … until there is no response, storing the
        last good id after each record, so a restarted client resumes where it stopped and
        sees each record once. Waits (on the clock) until ``poll_interval`` has passed since
        the previous poll began.
        """
        last_good, last_poll = self.cursor.load()
        now = self.clock.now()
        if last_poll is not None and now - last_poll < self.poll_interval:
            self.clock.sleep(self.poll_interval - (now - last_poll))
            now = self.clock.now()
        self.cursor.save(last_good, now)
        records: list[Record] = []
        while True:
            answer = self._poll(last_good + 1)
            if not answer:
                return records
            records.extend(answer.get("item") or [])
            last_good += 1
            self.cursor.save(last_good, now)

    def _poll(self, number: int) -> Record | None:
        try:
            return self._get(f"/api/items/seqOrgItemHistoryId/{number}")  # type: ignore[no-any-return]
        except NotFoundError:
            return None  # some instances may answer 404 rather than nothing at the end


def _v100(case: Record) -> Record:
    """A copy of ``case`` with a v99 ``caseOfficerId`` moved into ``caseOfficerIds`` (TR-17)."""
    body = dict(case)
    if "caseOfficerId" in body:
        old = body.pop("caseOfficerId")
        if body.get("caseOfficerIds") is None:
            body["caseOfficerIds"] = [] if old is None else [old]
    return body


def _error(method: str, path: str, response: requests.Response) -> TrackerError:
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    message = body.get("message", "") if isinstance(body, dict) else str(body)
    status = response.status_code
    text = f"{method} {path}: {status} {message or body}"
    lowered = message.lower()
    kind: type[TrackerError] = TrackerError
    if status == 401:
        kind = AuthError
    elif status == 403:
        kind = (
            LicenseError
            if "license" in lowered
            else AccountDisabledError
            if "disabled" in lowered
            else ForbiddenError
        )
    elif isinstance(body, dict) and "autoDispoErrors" in body:
        kind = AutoDispositionError
        text = f"{method} {path}: {status} {'; '.join(body['autoDispoErrors'])}"
    elif status == 404:
        kind = NotFoundError
    elif status == 409:
        kind = ConflictError
    elif status in (400, 415):
        kind = ValidationError
    return kind(text, status=status, body=body)


__all__ = [
    "AccountDisabledError",
    "AuthError",
    "AutoDispositionError",
    "ConflictError",
    "CursorStore",
    "ForbiddenError",
    "FormDataError",
    "LicenseError",
    "NotFoundError",
    "TrackerClient",
    "TrackerError",
    "ValidationError",
    "form_data_problems",
]
