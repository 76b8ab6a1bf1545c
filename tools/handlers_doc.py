"""Write docs/handlers.md: which Python function serves each operation of every emulator, read
from the emulators themselves, so the two never disagree.

python -m tools.handlers_doc > docs/handlers.md
"""

from __future__ import annotations

from functools import partial
from typing import Any

from trackmock.core.emulator import Emulator, Handler, Route
from trackmock.core.settings import CoreSettings
from trackmock.vendors import VENDORS, create_emulator

SECTIONS = {
    "tracker": {},
    # Plain HTTP: the listing needs no certificate.
    "trackops": {"plain_http": True},
    "track": {},
}


def served_by(handler: Handler | None) -> str:
    """``module.Class.method`` of a handler; a generic one names the view it is given."""
    if handler is None:
        return "**none** (answers 501)"
    if isinstance(handler, partial):
        views = ", ".join(getattr(arg, "operation_id", repr(arg)) for arg in handler.args)
        return f"{served_by(handler.func)} (view {views})"
    function: Any = getattr(handler, "__func__", handler)
    return f"`{function.__module__}.{function.__qualname__}`"


def emulators() -> dict[str, Emulator]:
    return {
        name: create_emulator(name, CoreSettings(), section) for name, section in SECTIONS.items()
    }


def _rows(routes: list[Route]) -> list[str]:
    return [
        f"| `{r.operation.id}` | `{r.operation.method} {r.operation.path}` | "
        f"{served_by(r.handler)} |"
        for r in routes
    ]


def render(built: dict[str, Emulator] | None = None) -> str:
    built = built or emulators()
    lines = [
        "# Which function serves each operation",
        "",
        "Every operation of every contract, and the Python function that serves it: the",
        "vendor's API (`contracts/<vendor>/openapi.yaml`), the vendor's control actions",
        "(`contracts/<vendor>/admin.yaml`) and the control API every emulator shares",
        "(`contracts/admin/openapi.yaml`). See docs/architecture.md for the shape of a vendor",
        "package.",
        "",
        "This file is generated: `python -m tools.handlers_doc > docs/handlers.md`; a test",
        "fails when it is out of date or when an operation has no handler.",
    ]
    header = ["| operationId | method and path | served by |", "|---|---|---|"]
    shared: list[Route] = []
    for name, emulator in built.items():
        api = [r for r in emulator.routes if r.operation.contract is emulator.contract]
        vendor = emulator.admin.vendor_contract
        actions = [r for r in emulator.routes if r.operation.contract is vendor]
        shared = [r for r in emulator.routes if r.operation.contract is emulator.admin.contract]
        title = VENDORS[name].title
        lines += ["", f"## {title} (`{name}`): API", "", *header, *_rows(api)]
        lines += ["", f"## {title} (`{name}`): control actions", "", *header, *_rows(actions)]
    lines += ["", "## Control API (every emulator)", "", *header, *_rows(shared)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
