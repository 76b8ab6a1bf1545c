"""Generated volume (the ``volume`` setting) and what building the emulator costs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from trackmock.fixtures.track.generate import generate
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import ACCOUNT, login

MakeEmulator = Callable[..., EmulatorHandle]


def test_the_generator_is_seeded() -> None:
    def made(seed: int) -> dict[str, object]:
        return generate(
            seed,
            positions=50,
            devices=5,
            first_device_id=10,
            first_beacon_id=20,
            first_position_id=30,
            end_ms=1_740_132_000_000,
        )

    assert made(1) == made(1)
    assert made(1) != made(2)


def test_volume_is_loaded_at_reset_for_the_chosen_user(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator("track", track={"volume": 5000, "volume_devices": 20})
    http = login(emulator, ACCOUNT)
    devices = http.get(emulator.url_for("/api/devices")).json()
    assert len(devices) == 4 + 20
    generated = [d for d in devices if d["name"].startswith("volume-device-")]
    assert generated[0]["id"] == 794524648, "ids continue after the fixtures"
    positions = http.get(emulator.url_for("/api/positions")).json()
    assert len(positions) == 3 + 20, "the latest of each device, not all 5 000"
    last = generated[-1]
    latest = http.get(emulator.url_for(f"/api/positions?deviceId={last['id']}")).json()
    assert [p["id"] for p in latest] == [last["positionId"]]
    assert latest[0]["fixTime"] == "2025-02-21T10:00:00.000+00:00", "the newest ends now"
    route = http.get(
        emulator.url_for("/api/reports/route"),
        params={
            "deviceId": last["id"],
            "from": "2025-02-21T09:00:00Z",
            "to": "2025-02-21T10:00:00Z",
        },
        headers={"Accept": "application/json"},
    ).json()
    assert len(route) == 3600 // 5 // 20 + 1
    emulator.control.reset()
    assert len(http.get(emulator.url_for("/api/beacons"), auth=ACCOUNT).json()) == 2 + 20


def test_importing_the_vendor_builds_nothing() -> None:
    code = (
        "import sys, trackmock.track, trackmock.clients.track; "
        "print(sorted(m for m in sys.modules if m.startswith(('trackmock.track.', 'faker'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
