"""The container, checked without a Docker engine (none runs here): the Dockerfile's rules,
the build context, the Compose file (``docker-compose config``), and what the image runs (its
entry point, its health check, as its non-root user) run outside Docker."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
MOUNT = "/srv/trackmock"


def instructions(name: str) -> list[str]:
    """Arguments of every ``name`` instruction of the Dockerfile (continuations joined)."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [m.group(1).strip() for m in re.finditer(rf"^{name} (.+)$", joined, re.MULTILINE)]


def test_the_base_image_is_pinned_to_one_python_and_one_debian_release() -> None:
    (base,) = instructions("FROM")
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), base


def test_the_image_runs_as_a_user_of_its_own() -> None:
    (user,) = instructions("USER")
    assert user == "10001:10001"
    (created,) = [run for run in instructions("RUN") if "useradd" in run]
    assert "--uid 10001" in created
    assert "--gid 10001" in created
    assert f"chown trackmock:trackmock {MOUNT}" in created


def test_the_health_check_and_entry_point_are_the_tested_scripts() -> None:
    (check,) = instructions("HEALTHCHECK")
    assert check.endswith('CMD ["python", "/usr/local/lib/trackmock/healthcheck.py"]')
    (entry,) = instructions("ENTRYPOINT")
    assert json.loads(entry) == ["sh", "/usr/local/lib/trackmock/entrypoint.sh"]
    assert "COPY docker/entrypoint.sh docker/healthcheck.py /usr/local/lib/trackmock/" in DOCKERFILE
    assert f"TRACKMOCK_READY_FILE={MOUNT}/ready.json" in DOCKERFILE


def _excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negated, pattern in rules:
        if any(pattern.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def _might_include(folder: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether an exception (``!docker/entrypoint.sh``) could take back a file in ``folder``."""
    return any(
        negated and pattern.pattern.startswith(re.escape(folder + "/"))
        for negated, pattern in rules
    )


def _rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        rules.append((negated, re.compile(regex)))
    return rules


def test_the_build_context_holds_what_the_image_copies_and_no_venv() -> None:
    rules = _rules()
    sent = []
    for folder, names, files in os.walk(ROOT):
        relative = Path(folder).relative_to(ROOT).as_posix()
        inside = [f"{relative}/{name}".removeprefix("./") for name in names]
        names[:] = [
            name
            for name, path in zip(names, inside, strict=True)
            if not _excluded(path, rules) or _might_include(path, rules)
        ]
        sent += [f"{relative}/{f}".removeprefix("./") for f in files]
    sent = [path for path in sent if not _excluded(path, rules)]
    for copied in instructions("COPY"):
        for source in copied.split()[:-1]:
            assert any(p == source or p.startswith(source + "/") for p in sent), source
    for never in (".venv", ".git", "tests", "benchmarks", ".trackmock", "docs"):
        assert not any(p == never or p.startswith(never + "/") for p in sent), never
    assert not [p for p in sent if "__pycache__" in p]
    size = sum((ROOT / p).stat().st_size for p in sent)
    assert size < 20 * 1024 * 1024, f"the build context is {size} bytes"


def _compose() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


COMPOSE = _compose()


@pytest.mark.skipif(
    COMPOSE is None,
    reason="no Compose client (docker-compose, or docker with its compose plugin) is installed:"
    " .ci/run installs Debian's docker-compose; without it the file cannot be validated here",
)
def test_compose_config_validates_and_passes_the_token_through_the_environment() -> None:
    assert COMPOSE is not None
    env = {**os.environ, "TRACKMOCK_ADMIN_TOKEN": "compose-test-token"}
    env.pop("TRACKMOCK_USER", None)
    run = subprocess.run(
        [*COMPOSE, "config"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    services = yaml.safe_load(run.stdout)["services"]
    assert sorted(services) == ["track", "tracker", "trackops"]
    settings = yaml.safe_load((ROOT / "docker/settings.yaml").read_text())
    assert settings["trackops"]["tls_dir"] == MOUNT  # the CA stays in the mounted folder
    for name, service in services.items():
        assert service["user"] == "10001:10001"
        environment = service["environment"]
        assert environment["TRACKMOCK_ADMIN_TOKEN"] == "compose-test-token"
        assert environment["TRACKMOCK_READY_FILE"] == f"{MOUNT}/{name}.json"
        assert "--admin-token" not in service["command"]
        mounts = [str(volume) for volume in service["volumes"]]
        assert any(f"/.trackmock:{MOUNT}" in m or f"'target': '{MOUNT}'" in m for m in mounts)
        (port,) = service["ports"]
        assert "127.0.0.1" in str(port)  # published on the host's loopback only
    missing = {k: v for k, v in env.items() if k != "TRACKMOCK_ADMIN_TOKEN"}
    refused = subprocess.run(
        [*COMPOSE, "config"], cwd=ROOT, env=missing, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0
    assert "set TRACKMOCK_ADMIN_TOKEN" in refused.stdout + refused.stderr


# -- what the image runs, run here as its user ---------------------------------------------

IMAGE_UID = 10001
SYSTEM_PYTHON = Path("/usr/bin/python3")


def _why_not_as_the_image_user() -> str | None:
    if os.geteuid() != 0:
        return "switching to the image's uid needs root"
    if not shutil.which("setpriv"):
        return "setpriv (util-linux) is missing"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} is missing"
    version = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if version != str(sys.version_info[:2]):
        return f"{SYSTEM_PYTHON} is Python {version}, not this {sys.version_info[:2]}"
    return None


WHY_NOT = _why_not_as_the_image_user()


@pytest.fixture
def image_tmp() -> Iterator[Path]:
    """A folder the image's uid can reach (pytest's own temporary folders are root's only)."""
    folder = Path(tempfile.mkdtemp(prefix="trackmock-image-user-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def as_image_user(image_tmp: Path) -> tuple[list[str], dict[str, str]]:
    """A command prefix running as uid 10001, and an environment whose ``trackmock`` and
    ``python`` that uid can run (this test's interpreter may live where it cannot read)."""
    if WHY_NOT:
        pytest.skip(f"cannot run as the image's user here: {WHY_NOT}")
    import site

    shim = image_tmp / "bin"
    shim.mkdir()
    packages = ":".join(site.getsitepackages())
    (shim / "trackmock").write_text(
        "#!/bin/sh\n"
        f'exec {SYSTEM_PYTHON} -c "import site, sys\n'
        f"for folder in '{packages}'.split(':'): site.addsitedir(folder)\n"
        'from trackmock.cli import main; sys.exit(main())" "$@"\n'
    )
    (shim / "python").symlink_to(SYSTEM_PYTHON)
    for path in (shim, shim / "trackmock"):
        path.chmod(0o755)
    prefix = ["setpriv", f"--reuid={IMAGE_UID}", f"--regid={IMAGE_UID}", "--clear-groups"]
    env = {"PATH": f"{shim}:/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"}
    probe = subprocess.run(
        [*prefix, "trackmock", "--version"], env=env, capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"uid {IMAGE_UID} cannot run this checkout's trackmock: {probe.stderr[-300:]}")
    return prefix, env


def test_the_entry_point_serves_as_the_image_user_and_the_health_check_follows(
    image_tmp: Path, as_image_user: tuple[list[str], dict[str, str]]
) -> None:
    prefix, env = as_image_user
    mounted = image_tmp / "mounted"  # the host folder Compose mounts at /srv/trackmock
    mounted.mkdir()
    os.chown(mounted, IMAGE_UID, IMAGE_UID)
    ready = mounted / "ready.json"
    settings = image_tmp / "settings.yaml"
    settings.write_text(f"trackops: {{tls_dir: {mounted}}}\n")
    env = {
        **env,
        "TRACKMOCK_READY_FILE": str(ready),
        "TRACKMOCK_HOST": "127.0.0.1",
        "TRACKMOCK_ADMIN_TOKEN": "entrypoint-token",
    }
    health = [*prefix, "python", str(ROOT / "docker/healthcheck.py")]
    before = subprocess.run(health, env=env, capture_output=True, text=True, check=False)
    assert before.returncode == 1
    assert "no ready file yet" in before.stderr
    ready.write_text('{"stale": {"url": "http://127.0.0.1:9"}}')  # from an earlier run
    os.chown(ready, IMAGE_UID, IMAGE_UID)
    ports = ["--tracker-port", "0", "--trackops-port", "0", "--track-port", "0"]
    process = subprocess.Popen(
        [*prefix, "sh", str(ROOT / "docker/entrypoint.sh"), *ports, "--settings", str(settings)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline(), process.stderr.read() if process.stderr else ""
        status = Path(f"/proc/{process.pid}/status").read_text()
        assert re.search(rf"^Uid:\s+{IMAGE_UID}\s", status, re.MULTILINE)
        listed = json.loads(ready.read_text())
        assert sorted(listed) == ["track", "tracker", "trackops"]  # the stale file is gone
        for path in (ready, mounted / "trackmock-ca.pem", mounted / "trackmock-server-key.pem"):
            assert path.stat().st_uid == IMAGE_UID, path
        assert (mounted / "trackmock-server-key.pem").stat().st_mode & 0o777 == 0o600
        after = subprocess.run(health, env=env, capture_output=True, text=True, check=False)
        assert after.returncode == 0, after.stderr
        tracker = listed["tracker"]["url"]
        assert requests.post(f"{tracker}/__admin/reset", timeout=10).status_code == 401
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert b"entrypoint-token" not in cmdline
    finally:
        process.terminate()
        process.wait(10)
    dead = subprocess.run(health, env=env, capture_output=True, text=True, check=False)
    assert dead.returncode == 1  # the ready file is there, the emulators no longer answer


def test_the_entry_point_explains_a_folder_it_cannot_write(
    image_tmp: Path, as_image_user: tuple[list[str], dict[str, str]]
) -> None:
    prefix, env = as_image_user
    mounted = image_tmp / "root-owned"  # what Docker makes of a missing host folder
    mounted.mkdir(mode=0o755)
    env = {**env, "TRACKMOCK_READY_FILE": str(mounted / "ready.json")}
    run = subprocess.run(
        [*prefix, "sh", str(ROOT / "docker/entrypoint.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert f"cannot write the ready file to {mounted} as uid {IMAGE_UID}" in run.stderr
    assert 'TRACKMOCK_USER="$(id -u):$(id -g)"' in run.stderr


def test_the_image_parses_the_packaged_contracts_at_build_time(tmp_path: Path) -> None:
    """The build fills ``TRACKMOCK_CACHE_DIR`` with the packaged contracts; the emulator user
    only reads it: every contract an emulator loads then comes from the cache, read-only."""
    env = dict(entry.split("=", 1) for entry in re.findall(r"(\w+=\S+)", instructions("ENV")[0]))
    assert env["TRACKMOCK_CACHE_DIR"] == "/usr/local/share/trackmock/cache"
    (build,) = [run for run in instructions("RUN") if "pip install" in run]
    warm = re.search(r'python -c "(.+)"', build)
    assert warm is not None
    cache = tmp_path / "cache"
    environment = {**os.environ, "TRACKMOCK_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-c", warm.group(1)], env=environment, check=True)
    made = sorted(path.name for path in cache.iterdir())
    cache.chmod(0o555)
    try:
        loaded = subprocess.run(
            [sys.executable, "-c", _LOAD_EVERY_EMULATOR],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        cache.chmod(0o755)
    assert sorted(path.name for path in cache.iterdir()) == made
    assert loaded.stdout.split() == ["False"], "an emulator start parsed YAML"


_LOAD_EVERY_EMULATOR = """
import sys
from trackmock.core.settings import CoreSettings
from trackmock.vendors import VENDORS, create_emulator
for name in VENDORS:
    section = {"plain_http": True} if name == "trackops" else {}
    emulator = create_emulator(name, CoreSettings(), section)
    path = emulator.provider.asyncapi_contract()
    if path is not None:
        from trackmock.core.contracts import Contract
        Contract.from_path(path)
print("yaml" in sys.modules)
"""
