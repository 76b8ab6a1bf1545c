"""Tracker's control actions (contracts/tracker/admin.yaml): what SAFE's own UI and support do.

One method per operationId. They answer the control API's error shape
(``core.errors.admin_error``), never the vendor's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core.emulator import Call, Reply
from ..core.errors import admin_error
from ..core.store import Record
from .store import Account

if TYPE_CHECKING:
    from ..core.clock import Clock
    from ..core.contracts import Contract
    from .disposition import AutoDisposition
    from .items import Items
    from .rules import Gate
    from .settings import TrackerSettings
    from .store import Organization, TrackerStore


@dataclass
class TrackerAdmin:
    """The Tracker emulator's control actions.

    Args:
        seed: the core ``seed`` (tokens made without one are derived from it).
        items: item changes (create, update, custody), shared with the volume generator.
        gate: licenses and the polling rule's accounts.
        auto_disposition: the auto-disposition settings.
    """

    contract: Contract
    store: TrackerStore
    settings: TrackerSettings
    clock: Clock
    seed: int
    items: Items
    gate: Gate
    auto_disposition: AutoDisposition

    def _org(self, org_id: int | None) -> Organization:
        org = self.store.organization(org_id or 1)
        if org is None:
            raise admin_error(404, f"organization {org_id} does not exist")
        return org

    def _acting_user(self, body: Record, org: Organization) -> int:
        """The UI user doing it: the body's, else the setting's, else the organization's first."""
        if body.get("userId"):
            return int(body["userId"])
        if self.settings.ui_user_id in org.users:
            return self.settings.ui_user_id
        return next(iter(org.users.keys()), self.settings.ui_user_id)

    # -- items (TR-13, TR-15, TR-16) -----------------------------------------------------------

    def adminCreateItem(self, call: Call) -> Reply:
        given = call.body["item"]
        org_id = self.store.case_org.get(given["primaryCaseId"])
        if org_id is None:
            raise admin_error(
                400, f"item.primaryCaseId: case {given['primaryCaseId']} does not exist"
            )
        with self.store.lock:
            org = self._org(org_id)
            item, history = self.items.create(org, given, self._acting_user(call.body, org))
        return Reply(body={"item": item, "history": history}, status=201)

    def _item_org(self, item_id: int) -> Organization:
        org_id = self.store.item_org.get(item_id)
        if org_id is None:
            raise admin_error(404, f"item {item_id} does not exist")
        return self._org(org_id)

    def adminUpdateItem(self, call: Call) -> Record:
        item_id = call.path_params["id"]
        with self.store.lock:
            org = self._item_org(item_id)
            changes = call.body["item"]
            item, history = self.items.update(
                org, item_id, changes, self._acting_user(call.body, org)
            )
        return {"item": item, "history": history}

    def adminTransferCustody(self, call: Call) -> Reply:
        item_id = call.path_params["id"]
        with self.store.lock:
            org = self._item_org(item_id)
            custody, item, history = self.items.move_custody(
                org, item_id, call.body, self._acting_user(call.body, org)
            )
        return Reply(body={"custody": custody, "item": item, "history": history}, status=201)

    # -- licenses (TR-06) ------------------------------------------------------------------------

    def _licenses(self, org: Organization) -> Record:
        self.gate.release_idle(org)
        pool = org.record["licenseCount"]
        reserved = len(self.gate.reserved_users(org))
        in_use = len(org.license_holders)
        return {
            "organizationId": org.id,
            "licenseCount": pool,
            "reservedUsers": reserved,
            "inUse": in_use,
            "available": max(0, pool - reserved - in_use),
        }

    def adminGetLicenses(self, call: Call) -> Record:
        return self._licenses(self._org(call.query.get("organizationId")))

    def adminSetLicenses(self, call: Call) -> Record:
        org = self._org(call.body.get("organizationId"))
        org.record["licenseCount"] = call.body["licenseCount"]
        org.license_holders.clear()
        return self._licenses(org)

    # -- tokens and accounts (TR-03, TR-07) ----------------------------------------------------

    def _token_state(self, account: Account) -> Record:
        window = self.settings.polling_violation_window
        now = self.clock.now()
        return {
            **account.token,
            "disabled": account.token["userId"] in self.store.disabled_users,
            "violations": sum(1 for t in account.violations if t > now - window),
        }

    def adminListTokens(self, call: Call) -> list[Record]:
        return [self._token_state(account) for account in self.store.accounts.values()]

    def adminCreateToken(self, call: Call) -> Reply:
        body = call.body
        org = next((o for o in self.store.tenants() if body["userId"] in o.users), None)
        if org is None:
            raise admin_error(400, f"userId: user {body['userId']} does not exist")
        token = body.get("token") or str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"trackmock:tracker:{self.seed}:token:{body['userId']}")
        )
        if token in self.store.accounts:
            raise admin_error(409, "that token already exists")
        record = self.contract.build(
            "schemas/StaticToken.json", {**body, "token": token, "organizationId": org.id}
        )
        account = self.store.accounts[token] = Account(record)
        return Reply(body=self._token_state(account), status=201)

    def adminEnableAccount(self, call: Call) -> Record:
        account = self.store.accounts.get(call.path_params["token"])
        if account is None:
            raise admin_error(404, "no such token")
        self.gate.enable(account.token["userId"])
        return self._token_state(account)

    # -- auto disposition and case history ----------------------------------------------------

    def adminSetAutoDisposition(self, call: Call) -> Record:
        org = self._org(call.body.get("organizationId"))
        org.auto_disposition["isAutoDispositionOn"] = call.body["isAutoDispositionOn"]
        return self.auto_disposition.view(org)

    def adminGetCaseHistory(self, call: Call) -> Any:
        case_id = call.path_params["id"]
        org_id = self.store.case_org.get(case_id)
        if org_id is None:
            raise admin_error(404, f"case {case_id} does not exist")
        return self._org(org_id).case_history.get(case_id, [])
