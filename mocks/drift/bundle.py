"""Find a vendor's contracts: its OpenAPI document and, beside it, its AsyncAPI document."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..core.contracts import Contract, ContractError
from .documents import load_contract

OPENAPI = "openapi.yaml"
ASYNCAPI = "asyncapi.yaml"


@dataclass(frozen=True)
class Bundle:
    """One vendor's contracts (either may be missing, not both)."""

    name: str
    openapi: Contract | None
    asyncapi: Contract | None

    @property
    def label(self) -> str:
        main = self.openapi or self.asyncapi
        assert main is not None
        version = main.info.get("version", "")
        path = Path(unquote(main.uri.removeprefix("file://")))
        if path.is_relative_to(Path.cwd()):
            path = path.relative_to(Path.cwd())
        return f"{main.title} {version} ({path})".replace("  ", " ")


def _folder(folder: Path, name: str) -> Bundle:
    openapi, asyncapi = folder / OPENAPI, folder / ASYNCAPI
    if not openapi.is_file() and not asyncapi.is_file():
        raise ContractError(f"{folder}: neither {OPENAPI} nor {ASYNCAPI} is here")
    return Bundle(
        name,
        load_contract(openapi) if openapi.is_file() else None,
        load_contract(asyncapi) if asyncapi.is_file() else None,
    )


def vendor_bundle(vendor: str, contracts: Path | None = None) -> Bundle:
    """The contracts of ``vendor``: packaged, or from ``contracts`` (a folder holding
    ``<vendor>/openapi.yaml`` as ``serve --contracts`` takes, the vendor's folder itself, or
    one description file: OpenAPI 3.0/3.1, Swagger 2.0 or AsyncAPI)."""
    if contracts is None:
        from ..core.paths import contracts_dir

        return _folder(contracts_dir() / vendor, vendor)
    if contracts.is_file():
        contract = load_contract(contracts, folder=False)
        if "asyncapi" in contract.document:
            return Bundle(vendor, None, contract)
        return Bundle(vendor, contract, None)
    if (contracts / vendor).is_dir():
        return _folder(contracts / vendor, vendor)
    return _folder(contracts, vendor)


def path_bundles(path: Path) -> dict[str, Bundle]:
    """What ``diff`` compares: a contract file, a vendor folder, or a folder of vendor folders."""
    if path.is_file():
        contract = load_contract(path, folder=False)
        if "asyncapi" in contract.document:
            return {path.stem: Bundle(path.stem, None, contract)}
        return {path.stem: Bundle(path.stem, contract, None)}
    if not path.is_dir():
        raise ContractError(f"{path}: no such file or folder")
    if (path / OPENAPI).is_file() or (path / ASYNCAPI).is_file():
        return {path.name: _folder(path, path.name)}
    found = {
        child.name: _folder(child, child.name)
        for child in sorted(path.iterdir())
        if (child / OPENAPI).is_file() or (child / ASYNCAPI).is_file()
    }
    if not found:
        raise ContractError(f"{path}: holds no {OPENAPI} or {ASYNCAPI}, nor folders that do")
    return found
