"""Who may call a route: tokens refused for every reason, the table's default deny, and the
decision taken before the body, the parameters or the object are looked at."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from keel_contracts.roles import Role
from keel_kit.access import Permissions, acting_person, guarded_routes, roles, table
from keel_kit.identity import Principal
from keel_kit.signing import AUDIENCE, LOCAL_ISSUER, StackKeys, read_private, sign
from kit_http_app import PERMISSIONS, client, keys_of, tiny_app

pytestmark = pytest.mark.unit


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    return tiny_app(tmp_path)


def _issuer(app: FastAPI) -> tuple[Ed25519PrivateKey, str]:
    keys = keys_of(app)
    key = read_private(keys.issuer_key_file)
    kid = jwt.get_unverified_header(keys.staff_token(user="x", role=Role.ADMIN))["kid"]
    return key, kid


def _admin_claims() -> dict[str, Any]:
    """What a forger would claim: admin, valid for ten minutes."""
    now = int(time.time())
    return {"iss": LOCAL_ISSUER, "aud": AUDIENCE, "sub": "mallory", "role": "admin"} | {
        "iat": now,
        "exp": now + 600,
    }


async def _get(app: FastAPI, token: str, path: str = "/v1/things/t1") -> httpx.Response:
    async with client(app, role=None) as http:
        return await http.get(path, headers={"Authorization": f"Bearer {token}"})


def _refused(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["detail"])


@pytest.mark.asyncio
async def test_no_token_is_a_401_problem_naming_the_scheme(app: FastAPI) -> None:
    async with client(app, role=None) as http:
        response = await http.get("/v1/things/t1")
        assert "no bearer token" in _refused(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer")
        basic = await http.get("/v1/things/t1", headers={"Authorization": "Basic YTpi"})
        assert "not a bearer token" in _refused(basic, 401)


@pytest.mark.asyncio
async def test_a_signed_staff_token_passes(app: FastAPI) -> None:
    async with client(app, role=Role.WAREHOUSE) as http:
        response = await http.get("/v1/things/t1")
    assert response.status_code == 200, response.text


@pytest.mark.asyncio
async def test_alg_none_is_refused(app: FastAPI) -> None:
    _, kid = _issuer(app)
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    unsigned = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in (header, _admin_claims())
    )
    assert "'none' is not accepted" in _refused(await _get(app, unsigned + "."), 401)


@pytest.mark.asyncio
async def test_a_token_signed_with_a_shared_secret_is_refused(app: FastAPI) -> None:
    # The classic confusion: HMAC keyed with the issuer's public key, which anyone may read.
    _, kid = _issuer(app)
    public = json.loads(keys_of(app).jwks_file.read_text())["keys"][0]["x"]
    forged = jwt.encode(_admin_claims(), public, algorithm="HS256", headers={"kid": kid})
    assert "'HS256' is not accepted" in _refused(await _get(app, forged), 401)


@pytest.mark.asyncio
async def test_a_token_signed_with_another_key_is_refused(app: FastAPI, tmp_path: Path) -> None:
    _, kid = _issuer(app)
    stranger = Ed25519PrivateKey.generate()
    forged = sign(stranger, kid=kid, subject="mallory", roles=[Role.ADMIN], ttl=timedelta(hours=1))
    assert "Signature verification failed" in _refused(await _get(app, forged), 401)
    # A whole other stack's token names a key this one does not know.
    other = StackKeys.ensure(tmp_path / "other").staff_token(user="ann", role=Role.ADMIN)
    assert "unknown key" in _refused(await _get(app, other), 401)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"audience": "someone-else"}, "Audience doesn't match"),
        ({"issuer": "https://evil.example"}, "Invalid issuer"),
        ({"ttl": timedelta(minutes=-5)}, "Signature has expired"),
    ],
)
async def test_wrong_audience_issuer_or_an_expired_token_is_refused(
    app: FastAPI, change: dict[str, Any], why: str
) -> None:
    key, kid = _issuer(app)
    made: dict[str, Any] = {"ttl": timedelta(hours=1)} | change
    token = sign(key, kid=kid, subject="ann", roles=[Role.ADMIN], **made)
    assert why in _refused(await _get(app, token), 401)


@pytest.mark.asyncio
async def test_a_service_key_signs_only_its_own_principal(app: FastAPI) -> None:
    keys = keys_of(app)
    finance = read_private(keys.service_key_file("finance"))
    as_person = sign(
        finance, kid="service:finance", subject="ann", roles=[Role.ADMIN], ttl=timedelta(hours=1)
    )
    assert "signs only its own service principal" in _refused(await _get(app, as_person), 401)
    itself = sign(
        finance,
        kid="service:finance",
        subject="service:finance",
        roles=[Role.SERVICE],
        ttl=timedelta(hours=1),
    )
    # Authenticated, and refused by the table: no role `service` on this route.
    assert "service:finance (service) may not GET" in _refused(await _get(app, itself), 403)


@pytest.mark.asyncio
async def test_a_role_not_in_the_table_is_403_before_the_body_or_the_object(app: FastAPI) -> None:
    async with client(app, role=Role.FINANCE) as http:
        json_type = {"Content-Type": "application/json"}
        invalid_body = await http.post("/v1/things", content=b"{not json", headers=json_type)
        assert "tess (finance) may not POST /v1/things" in _refused(invalid_body, 403)
        too_big = await http.post("/v1/things", json={"name": "x" * 10_000})
        _refused(too_big, 403)
        bad_params = await http.get("/v1/things/t1", params={"limit": "many"})
        _refused(bad_params, 403)
    async with client(app, role=Role.OPERATIONS) as http:
        wrong = await http.post("/v1/things", content=b"{not json", headers=json_type)
        assert wrong.status_code == 422


@pytest.mark.asyncio
async def test_a_path_no_entry_names_is_refused_except_to_admin(app: FastAPI) -> None:
    async with client(app, role=Role.OPERATIONS) as http:
        _refused(await http.get("/v1/nothing-here"), 403)
    async with client(app, role=Role.ADMIN) as http:
        assert (await http.get("/v1/nothing-here")).status_code == 404


@pytest.mark.asyncio
async def test_the_most_literal_route_decides(app: FastAPI) -> None:
    async with client(app, role=Role.WAREHOUSE) as http:
        assert (await http.get("/v1/things/other")).status_code == 200
        _refused(await http.get("/v1/things/special"), 403)
    async with client(app, role=Role.FINANCE) as http:
        assert (await http.get("/v1/things/special")).json() == "special"


@pytest.mark.asyncio
async def test_leadership_reads_where_the_table_says_and_changes_nothing(app: FastAPI) -> None:
    async with client(app, role=Role.LEADERSHIP) as http:
        assert (await http.get("/v1/things/t1")).status_code == 200
        _refused(await http.post("/v1/things", json={"name": "n"}), 403)


@pytest.mark.asyncio
async def test_health_metrics_and_docs_stay_open(app: FastAPI) -> None:
    async with client(app, role=None) as http:
        for path in ("/health/live", "/openapi.json", "/docs"):
            assert (await http.get(path)).status_code == 200, path


def test_openapi_says_every_v1_operation_takes_a_bearer_token(app: FastAPI) -> None:
    document = app.openapi()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for operation in operations.values():
            assert ("security" in operation) is path.startswith("/v1/"), path


def test_every_served_route_is_in_the_table(app: FastAPI) -> None:
    assert guarded_routes(app) == set(app.state.permissions.routes)
    assert set(PERMISSIONS.routes) <= guarded_routes(app)


def test_a_route_named_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="named twice"):
        table([("GET", "/v1/x", roles()), ("GET", "/v1/x", roles(Role.FINANCE))])


def test_tables_join() -> None:
    joined = Permissions({("GET", "/v1/a"): roles()}) | table([("GET", "/v1/b", roles())])
    assert joined.template("GET", "/v1/b") == "/v1/b"
    assert joined.template("POST", "/v1/b") is None


def test_the_actor_is_the_principal() -> None:
    ann = Principal(subject="ann", roles=frozenset({Role.FINANCE}))
    assert acting_person(ann, None, field="approver") == "ann"
    assert acting_person(ann, "ann", field="approver") == "ann"
    with pytest.raises(Exception, match="ann may not act as 'bob'") as refused:
        acting_person(ann, "bob", field="approver")
    assert getattr(refused.value, "status", None) == 403
