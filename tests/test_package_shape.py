"""The shape every vendor package shares (docs/architecture.md), kept by tests: the same file
set, a handler for every operation (listed in docs/handlers.md), no handler attached at run
time, relative imports inside the package."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest
from trackmock.core.emulator import Emulator
from trackmock.vendors import VENDORS

from tools.handlers_doc import emulators, render, served_by

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mocks"
PACKAGE_FOLDERS = [PACKAGE, ROOT / "clients", ROOT / "fixtures"]
"""The folders the ``trackmock`` import package is made of (pyproject.toml)."""
VENDOR_FILES = {
    "__init__.py",
    "provider.py",
    "store.py",
    "rules.py",
    "admin.py",
    "errors.py",
    "settings.py",
    "initial_state.py",
}
"""The files of every vendor package, each with the same job in each (the architecture's
"one shape for every vendor")."""


@pytest.fixture(scope="module")
def built() -> dict[str, Emulator]:
    return emulators()


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_every_vendor_package_has_the_same_files(vendor: str) -> None:
    files = {path.name for path in (PACKAGE / vendor).glob("*.py")}
    assert files >= VENDOR_FILES, f"mocks/{vendor} lacks {sorted(VENDOR_FILES - files)}"


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_every_operation_has_a_handler(built: dict[str, Emulator], vendor: str) -> None:
    routes = built[vendor].routes
    kinds = Counter(route.operation.contract.uri.rsplit("/", 2)[-2] for route in routes)
    assert set(kinds) == {vendor, "admin"}, kinds
    gaps = [route.operation.id for route in routes if route.handler is None]
    assert gaps == [], f"{vendor}: operations without a handler (answered 501): {gaps}"
    for route in routes:
        assert served_by(route.handler).startswith("`trackmock."), route.operation.id


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_vendor_handlers_live_in_the_vendor_package(
    built: dict[str, Emulator], vendor: str
) -> None:
    """API handlers are the provider's; vendor control actions are ``admin.py``'s."""
    emulator = built[vendor]
    for route in emulator.routes:
        contract = route.operation.contract
        if contract is emulator.contract:
            assert f"`trackmock.{vendor}.provider." in served_by(route.handler)
        elif contract is emulator.admin.vendor_contract:
            assert f"`trackmock.{vendor}.admin." in served_by(route.handler)
        else:
            # The core control API: its own handlers, and the dashboard's calls.
            assert served_by(route.handler).startswith(
                ("`trackmock.core.admin.", "`trackmock.dashboard.api.")
            )


def test_the_handler_listing_is_up_to_date(built: dict[str, Emulator]) -> None:
    listing = (ROOT / "docs" / "handlers.md").read_text()
    assert listing == render(built), "run: python -m tools.handlers_doc > docs/handlers.md"


def _python_files() -> list[Path]:
    return sorted(path for folder in PACKAGE_FOLDERS for path in folder.rglob("*.py"))


def _imported_packages(node: ast.AST) -> list[str]:
    """The top-level packages an import statement names (none for a relative import)."""
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_inside_the_package_are_relative(path: Path) -> None:
    absolute = [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if "trackmock" in _imported_packages(node)
    ]
    assert absolute == [], f"use relative imports (from ..core.x import y) at lines {absolute}"


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_no_handler_is_attached_at_run_time(vendor: str) -> None:
    """Every operationId is named in the vendor's Python: nothing is ``setattr``'d."""
    for path in (PACKAGE / vendor).glob("*.py"):
        calls = [
            node.lineno
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr"
        ]
        assert calls == [], f"{path.name}: setattr at lines {calls}"
