"""Auto disposition ("API - Edit a Case", Possible Error Scenarios): settings and group lists.

The settings GET lists one setting per offense type of the organization, a zero row for a
type without settings (TR-24); the PUT needs an orgAdmin token and the three permission-group
arrays, and may carry only the types that lack settings (TR-25); groups come by access type
1, 4, 3 (TR-26).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.store import Record
from .errors import forbidden, invalid_fields
from .people import ORG_ADMIN_NEEDED

if TYPE_CHECKING:
    from ..core.contracts import Contract
    from .rules import Principal
    from .store import Organization, TrackerStore

PERMISSION_ARRAYS = {
    "listPermissionGroupIds": 1,
    "createPermissionGroupIds": 4,
    "updatePermissionGroupIds": 3,
}
"""The settings PUT's arrays → the access type whose groups they take ("API - Edit a Case")."""


@dataclass
class AutoDisposition:
    """The auto-disposition settings of one Tracker emulator.

    Args:
        offense_types: the OffenseType records by id (each setting embeds its type).
    """

    contract: Contract
    store: TrackerStore
    offense_types: dict[int, Record]

    def view(self, org: Organization) -> Record:
        """The settings GET: one setting per offense type, a zero row where there is none."""
        settings = []
        for type_id in org.record["offenseTypeIds"]:
            setting = org.settings.get(type_id)
            if setting is None:
                setting = {
                    "id": 0,
                    "active": False,
                    "daysToFollowUp": 0,
                    "organizationId": 0,
                    "offenseTypeId": type_id,
                    "offenseType": self.offense_types.get(type_id),
                }
            settings.append(setting)
        return {**org.auto_disposition, "settings": settings}

    def update(self, principal: Principal, body: Record) -> None:
        """Store the settings PUT, after checking all of it."""
        if not principal.token["orgAdmin"]:
            raise forbidden(ORG_ADMIN_NEEDED)
        org = principal.org
        problems: dict[str, list[str]] = {}
        for array, access_type in PERMISSION_ARRAYS.items():
            allowed = {g["id"] for g in org.access_groups.get(access_type, [])}
            unknown = [g for g in body[array] if g not in allowed]
            if unknown:
                problems[f"settings.{array}"] = [
                    f"Groups {unknown} cannot be given this access; see "
                    f"GET /api/autoDisposition/{access_type}/groups/."
                ]
        for i, setting in enumerate(body["settings"]):
            if setting["offenseTypeId"] not in org.record["offenseTypeIds"]:
                problems[f"settings.settings[{i}].offenseTypeId"] = [
                    f"{setting['offenseTypeId']} is not an offense type of organization {org.id}."
                ]
        for i, reviewer in enumerate(body.get("officeAutoDispositionReviewers", [])):
            if reviewer["officeId"] not in org.offices:
                problems[f"settings.officeAutoDispositionReviewers[{i}].officeId"] = [
                    f"{reviewer['officeId']} is not an office of organization {org.id}."
                ]
        if problems:
            raise invalid_fields(problems)
        for setting in body["settings"]:
            type_id = setting["offenseTypeId"]
            known = org.settings.get(type_id)
            values = {
                **setting,
                "id": known["id"] if known else self.store.sequences.next("setting"),
                "organizationId": org.id,
                "offenseType": self.offense_types[type_id],
            }
            org.settings[type_id] = self.contract.build(
                "schemas/AutoDispositionSetting.json", values
            )
        org.permission_groups = {array: list(body[array]) for array in PERMISSION_ARRAYS}
        auto = org.auto_disposition
        for field in ("isAutoDispositionOn", "officeAutoDispositionReviewers"):
            if field in body:
                auto[field] = body[field]

    def groups(self, org: Organization, access_type: int) -> list[Record]:
        return org.access_groups.get(access_type, [])
