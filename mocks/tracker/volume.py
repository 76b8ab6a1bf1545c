"""Generated volume for benchmarks: ``volume`` items (with their feed records) at reset.

Records come from ``fixtures/tracker/generate.py`` (Faker is imported there only, and only
when a volume is asked for) and are stored through the same code as API calls and control
actions, so they obey the same rules.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from .fixtures import SEED_ORGANIZATION
from .rules import Principal

if TYPE_CHECKING:
    from .provider import TrackerProvider


def _generator() -> ModuleType:
    # Imported here, not at the top: it imports Faker, which only volume runs need.
    from trackmock.fixtures.tracker import generate

    return generate


def load_volume(provider: TrackerProvider, count: int) -> None:
    """Add ``count`` generated items, on generated cases, to the seed's organization."""
    store = provider.store
    org = store.tenant(SEED_ORGANIZATION)
    account = next(
        a
        for a in store.accounts.values()
        if a.token["organizationId"] == org.id and a.token["orgAdmin"]
    )
    user = org.users.get(account.token["userId"])
    assert user is not None
    principal = Principal(account.token, account, org, user["officeId"], user)
    offense_types = sorted(org.settings) or list(org.record["offenseTypeIds"])
    data = _generator().generate(
        provider.emulator.settings.seed,
        count,
        items_per_case=provider.settings.volume_items_per_case,
        officer_ids=sorted(u["id"] for u in org.users),
        offense_type_ids=offense_types,
    )
    case_ids = [provider.cases.create(principal, body)["id"] for body in data["cases"]]
    for values in data["items"]:
        values["primaryCaseId"] = case_ids[values.pop("case")]
        provider.items.create(org, values, provider.settings.ui_user_id, check=False)
