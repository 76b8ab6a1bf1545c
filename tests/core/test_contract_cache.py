"""The cache of parsed contracts (``core/contracts.py``, ``_documents``): a start reads one
bundle per contract folder instead of parsing and walking every file, and never a stale one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from referencing.exceptions import Unresolvable
from trackmock.core.contracts import Contract
from trackmock.core.paths import contracts_dir


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TRACKMOCK_CACHE_DIR", str(folder))
    return folder


def _contract(root: Path) -> Path:
    """A vendor folder with a schema file beside its document and one outside the folder."""
    (root / "shared").mkdir(parents=True)
    (root / "shared" / "Text.json").write_text('{"type": "string"}')
    (root / "vendor" / "schemas").mkdir(parents=True)
    (root / "vendor" / "schemas" / "Error.json").write_text(
        '{"type": "object", "properties": {"error": {"$ref": "../../shared/Text.json"}}}'
    )
    document = root / "vendor" / "openapi.yaml"
    document.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components: {schemas: {Error: {$ref: 'schemas/Error.json'}}}\n"
    )
    return document


def _error_is_valid(document: Path, value: object) -> bool:
    contract = Contract.from_path(document)
    validator = contract.validator(contract.location("components", "schemas", "Error"))
    return bool(validator.is_valid({"error": value}))


def test_the_packaged_contracts_load_the_same_from_the_cache_as_from_their_files(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for vendor in ("tracker", "trackops", "track"):
        path = contracts_dir() / vendor / "openapi.yaml"
        first = Contract.from_path(path)
        assert any(cache.glob("contract-*.json")), "no bundle written"
        cached = Contract.from_path(path)
        monkeypatch.setenv("TRACKMOCK_CACHE_DIR", "off")
        fresh = Contract.from_path(path)
        monkeypatch.setenv("TRACKMOCK_CACHE_DIR", str(cache))
        assert cached.resources == fresh.resources == first.resources
        assert list(cached.operations) == list(fresh.operations)


def test_a_changed_file_in_the_folder_is_read_again(cache: Path, tmp_path: Path) -> None:
    document = _contract(tmp_path / "c")
    assert _error_is_valid(document, "text")
    (document.parent / "schemas" / "Error.json").write_text(
        '{"type": "object", "properties": {"error": {"type": "integer"}}}'
    )
    assert not _error_is_valid(document, "text")
    assert _error_is_valid(document, 3)


def test_a_changed_file_outside_the_folder_is_read_again(cache: Path, tmp_path: Path) -> None:
    document = _contract(tmp_path / "c")
    assert _error_is_valid(document, "text")
    assert not _error_is_valid(document, 3)
    (tmp_path / "c" / "shared" / "Text.json").write_text('{"type": "integer"}')
    assert _error_is_valid(document, 3)
    assert not _error_is_valid(document, "text")


def test_a_damaged_bundle_is_ignored_and_replaced(cache: Path, tmp_path: Path) -> None:
    document = _contract(tmp_path / "c")
    assert _error_is_valid(document, "text")
    (bundle,) = cache.glob("contract-*.json")
    bundle.write_bytes(b'{"documents": {"file:///nowh')
    assert _error_is_valid(document, "text")
    assert json.loads(bundle.read_bytes())["documents"]


def test_an_unwritable_cache_folder_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("TRACKMOCK_CACHE_DIR", str(blocker / "cache"))
    document = _contract(tmp_path / "c")
    assert _error_is_valid(document, "text")


def test_processes_starting_at_once_share_the_cache_safely(cache: Path, tmp_path: Path) -> None:
    """Several processes load the same contracts into an empty cache at the same moment: each
    gets whole contracts and the cache ends up with whole bundles and no temporary files."""
    script = (
        "from trackmock.core.contracts import Contract\n"
        "from trackmock.core.paths import contracts_dir\n"
        "for vendor in ('tracker', 'trackops', 'track'):\n"
        "    c = Contract.from_path(contracts_dir() / vendor / 'openapi.yaml')\n"
        "    print(vendor, len(c.operations), len(c.resources))\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=_env(cache)
        )
        for _ in range(4)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert len(set(outputs)) == 1
    assert outputs[0].count("\n") == 3
    assert not [path for path in cache.iterdir() if path.name.endswith(".tmp")]
    for bundle in cache.glob("contract-*.json"):
        assert json.loads(bundle.read_bytes())["documents"]


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "TRACKMOCK_CACHE_DIR": str(cache)}


def test_a_missing_file_referred_to_counts_once_it_is_made(cache: Path, tmp_path: Path) -> None:
    document = _contract(tmp_path / "c")
    (tmp_path / "c" / "shared" / "Text.json").unlink()
    with pytest.raises(Unresolvable, match=r"Text\.json"):
        _error_is_valid(document, "text")
    (tmp_path / "c" / "shared" / "Text.json").write_text('{"type": "integer"}')
    assert _error_is_valid(document, 3)
    assert not _error_is_valid(document, "text")


def test_the_documents_of_a_folder_are_read_once_per_process(cache: Path, tmp_path: Path) -> None:
    """Each document of a folder loads from one bundle, read once while it stays the same:
    the emulators of a process (each loads the control API's contract, and its vendor's
    ``openapi.yaml`` and ``admin.yaml``) share the parsed documents, which they only read."""
    document = _contract(tmp_path / "c")
    other = document.with_name("admin.yaml")
    other.write_text("openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths: {}\n")
    first, second, again = (Contract.from_path(p) for p in (document, other, document))
    (bundle,) = cache.glob("contract-*.json")
    schema = next(uri for uri in first.resources if uri.endswith("Error.json"))
    assert first.resources[schema] is second.resources[schema] is again.resources[schema]
    assert first.document is again.document
    assert first is not again
    assert (second.title, first.title) == ("a", "t")
    # A bundle file changed on disk is read again (here: damaged, so loaded afresh).
    bundle.write_bytes(b"{}")
    fresh = Contract.from_path(document)
    assert fresh.resources[schema] == first.resources[schema]
    assert fresh.resources[schema] is not first.resources[schema]


def test_a_folder_unchanged_since_it_was_hashed_is_not_read_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later process tells the folder unchanged by its files' sizes, times and inodes (kept
    in an index file beside the bundles) and reads only the bundle."""
    from trackmock.core import contracts

    monkeypatch.setattr(contracts, "SETTLED_NS", 0)
    document = _contract(tmp_path / "c")
    first = Contract.from_path(document)
    assert any(cache.glob("folder-*.json")), "no index written"
    # As a new process: nothing remembered in memory.
    monkeypatch.setattr(contracts, "_folder_keys", {})
    monkeypatch.setattr(contracts, "_read_bundles", {})
    read: list[Path] = []
    read_bytes = Path.read_bytes

    def recording(self: Path) -> bytes:
        read.append(self)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", recording)
    again = Contract.from_path(document)
    assert again.resources == first.resources
    inside = [p for p in read if p.is_relative_to(document.parent)]
    assert inside == [], inside
    assert [p.name for p in read if p.name.startswith("contract-")], "the bundle was not read"


def test_a_file_changed_keeping_its_size_and_modification_time_is_read_again(
    cache: Path, tmp_path: Path
) -> None:
    """A file changed moments ago is hashed, whatever its size and times say (a change within
    one tick of the file system's clock can leave them as they were)."""
    document = _contract(tmp_path / "c")
    schema = document.parent / "schemas" / "Error.json"
    schema.write_text('{"type": "object", "properties": {"error": {"type": "string"}}}')
    assert _error_is_valid(document, "text")
    before = schema.stat()
    schema.write_text('{"type": "object", "properties": {"error": {"type": "number"}}}')
    os.utime(schema, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert schema.stat().st_size == before.st_size
    assert _error_is_valid(document, 3)
    assert not _error_is_valid(document, "text")


def test_a_damaged_folder_index_is_ignored_and_replaced(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trackmock.core import contracts

    monkeypatch.setattr(contracts, "SETTLED_NS", 0)
    document = _contract(tmp_path / "c")
    assert _error_is_valid(document, "text")
    (index,) = cache.glob("folder-*.json")
    for damage in (b"{", b"[]", b'{"files": [], "key": 3}'):
        index.write_bytes(damage)
        monkeypatch.setattr(contracts, "_folder_keys", {})
        assert _error_is_valid(document, "text")
        assert json.loads(index.read_text())["key"] != 3
