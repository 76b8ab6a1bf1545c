"""Where the contracts and fixtures are: inside the installed package, or in the checkout."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path


@cache
def _data_dir(package: str, folder: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    # A checkout used without installing: the folders sit beside ``mocks/``.
    return Path(__file__).resolve().parents[2] / folder


def contracts_dir() -> Path:
    """The folder holding ``admin/``, ``tracker/``, ``trackops/`` and ``track/`` contracts."""
    return _data_dir("trackmock.contracts", "contracts")


def fixtures_dir() -> Path:
    """The folder holding each vendor's fixture data."""
    return _data_dir("trackmock.fixtures", "fixtures")
