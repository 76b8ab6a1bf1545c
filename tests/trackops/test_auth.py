"""TLS only, basic auth with ``{username}/token``, accounts by subdomain (TO-01, 02, 14, 15).

The auth matrix runs over every collection of the contract: each way of being refused gets
its own status and message, and the vendor document's user gets in.
"""

from __future__ import annotations

import re
import socket
import ssl
from urllib.parse import urlparse

import pytest
import requests
from trackmock.pytest_plugin import EmulatorHandle

from .helpers import SAM, TOKEN, Api, contract, error_of

CONTINENTAL = ("op/token", "5f2c8e1a-7b3d-4c9e-a6f0-2d8b1e4c7a93")
MARLOWE = ("pmarlowe/token", "a7e4b2c9-3f1d-4e8a-9b6c-0c5d7e2f1a84")


def _collection_paths() -> list[str]:
    """Every list operation of the contract, with path parameters set to an existing id."""
    found = []
    for operation in contract().operations.values():
        if operation.method == "GET" and any(p.name == "page" for p in operation.parameters):
            found.append(re.sub(r"\{[^}]+\}", "1", operation.path))
    return sorted(found)


COLLECTIONS = _collection_paths()

WRONG = ("samspade/token", "00000000-0000-0000-0000-000000000000")
REFUSALS = [
    ("no credentials", None, None, 401, "Authentication required"),
    ("wrong token", WRONG, None, 401, "Invalid API token"),
    ("limited access", ("eperine/token", TOKEN), None, 403, "Limited Access employees"),
    ("client contact", ("dwhitfield/token", TOKEN), None, 403, "Client contacts cannot"),
    ("inactive", ("marcher/token", TOKEN), None, 403, "is inactive"),
    ("not activated", MARLOWE, "marlowe.localhost", 403, "not activated"),
]  # fmt: skip


def test_every_object_of_the_seed_has_a_collection() -> None:
    assert len(COLLECTIONS) == 35, "32 objects, case requests and two status-history views"


@pytest.mark.behaviour("TO-01", "TO-02", "TO-15")
@pytest.mark.parametrize("path", COLLECTIONS)
def test_auth_matrix(trackops: EmulatorHandle, api: Api, path: str) -> None:
    for case, auth, host, status, words in REFUSALS:
        response = api.get(path, auth=auth, host=host, advance=0)
        assert response.status_code == status, case
        assert words in error_of(response)["message"], case
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Basic"), case
    plain = requests.get(trackops.url.replace("https://", "http://") + path, auth=SAM, timeout=5)
    assert plain.status_code == 403
    assert "SSL required" in error_of(plain)["message"]
    assert api.get(path).status_code == 200


@pytest.mark.behaviour("TO-01")
def test_plain_http_never_reaches_the_api(trackops: EmulatorHandle, api: Api) -> None:
    plain = requests.post(
        trackops.url.replace("https://", "http://") + "/api/v1/subjects", json={}, timeout=5
    )
    assert plain.status_code == 403
    assert plain.headers["Content-Type"] == "application/json"
    assert trackops.control.journal(path_prefix="/api/") == [], "refused before any route"


@pytest.mark.behaviour("TO-01")
def test_https_needs_the_emulators_ca(trackops: EmulatorHandle) -> None:
    session = requests.Session()
    session.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        session.get(trackops.url_for("/api/v1/clients"), auth=SAM, timeout=5, verify=True)


@pytest.mark.behaviour("TO-02")
def test_the_username_must_end_in_slash_token(api: Api) -> None:
    response = api.get("/api/v1/clients", auth=("samspade", TOKEN))
    assert response.status_code == 401
    assert "{username}/token" in error_of(response)["message"]
    response = api.get("/api/v1/clients", headers={"Authorization": "Bearer " + TOKEN}, auth=None)
    assert response.status_code == 401
    response = api.get("/api/v1/clients", headers={"Authorization": "Basic !!!"}, auth=None)
    assert response.status_code == 401


@pytest.mark.behaviour("TO-02")
def test_an_unknown_user_is_refused(api: Api) -> None:
    response = api.get("/api/v1/clients", auth=("nobody/token", TOKEN))
    assert response.status_code == 401
    assert error_of(response)["message"] == "Unknown user 'nobody' for this account"


@pytest.mark.behaviour("TO-02", "TO-15")
def test_control_actions_change_who_gets_in(trackops: EmulatorHandle, api: Api) -> None:
    control = trackops.control
    control.call(
        "PATCH", "trackops/accounts/mycompany/users/eperine", {"access_level": "full_access"}
    )
    assert api.get("/api/v1/clients", auth=("eperine/token", TOKEN)).status_code == 200
    control.call("PATCH", "trackops/accounts/mycompany/users/samspade", {"is_active": False})
    assert api.get("/api/v1/clients").status_code == 403
    staff = api.get("/api/v1/staff/1", auth=("eperine/token", TOKEN)).json()
    assert staff["is_active"] is False, "the staff record follows the user"
    control.call("PATCH", "trackops/accounts/marlowe", {"api_access_enabled": True})
    assert api.get("/api/v1/clients", auth=MARLOWE, host="marlowe.localhost").json() == []
    control.call("PATCH", "trackops/accounts/mycompany", {"api_access_enabled": False})
    response = api.get("/api/v1/clients", auth=("eperine/token", TOKEN))
    assert response.status_code == 403
    assert "not activated" in error_of(response)["message"]


@pytest.mark.behaviour("TO-14")
def test_the_host_selects_the_account_and_tokens_are_per_account(api: Api) -> None:
    mine = api.get("/api/v1/clients", host="mycompany.localhost:8082")
    assert [c["name"] for c in mine.json()][-1] == "Globe Mutual Casualty"
    assert api.get("/api/v1/clients", host="127.0.0.1").json() == mine.json()
    assert api.get("/api/v1/clients", host="localhost").json() == mine.json()
    other = api.get("/api/v1/clients", auth=CONTINENTAL, host="continental.localhost:8082")
    assert other.status_code == 200
    assert other.json() == [], "an account without fixtures starts empty"
    wrong = api.get("/api/v1/clients", auth=CONTINENTAL)
    assert wrong.status_code == 401, "continental's token does not open mycompany"
    unknown = api.get("/api/v1/clients", host="nosuch.viewcases.com")
    assert unknown.status_code == 404
    assert "nosuch" in error_of(unknown)["message"]


def test_credentials_name_the_seeds_user(trackops: EmulatorHandle) -> None:
    assert trackops.credentials["username"] == "samspade/token"
    assert trackops.credentials["password"] == TOKEN
    assert trackops.url.startswith("https://")
    assert str(trackops.ca_cert).endswith(".pem")


@pytest.mark.behaviour("TO-01", "TO-14")
def test_the_certificate_names_every_accounts_host(trackops: EmulatorHandle) -> None:
    context = ssl.create_default_context(cafile=trackops.ca_cert)
    address = urlparse(trackops.url)
    for name in ("mycompany.localhost", "continental.viewcases.com", "localhost", "trackops"):
        with (
            socket.create_connection((address.hostname, address.port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=name) as wrapped,
        ):
            assert wrapped.version() is not None, name
