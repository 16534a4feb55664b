"""Each role can do exactly its operations (issue 13): every operation of the OpenAPI document, called by a
user of each role (and nobody), is allowed or refused with 403 as the matrix says. The
matrix must name every operation, so a new endpoint cannot ship without deciding who may call it. Calls aim
at objects that do not exist, so an allowed call answers 404/422 without changing anything: the role is
checked before the lookup, in the application layer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pipeline.app.auth_tokens import issue_token
from pipeline.app.users import add_user, operator
from pipeline.core.settings import Settings
from pipeline.core.vocabulary import Classification, Role
from pipeline.entry.api import create_app
from tests.app.conftest import Home, build_home

ROLES = {"staff": {Role.STAFF}, "archivist": {Role.ARCHIVIST}, "officer": {Role.RECORDS_OFFICER},
         "admin": {Role.ADMIN}, "monitor": {Role.MONITOR}}  # a user has at least one role (add_user refuses none)
EVERYONE = frozenset(ROLES)
READERS = frozenset({"staff", "archivist", "officer", "admin"})
OFFICE = frozenset({"officer", "admin"})
ARCHIVISTS = frozenset({"archivist", "admin"})
NOBODY_ID = "0" * 64
PARAMS = {"doc_id": NOBODY_ID, "n": "1", "hold_id": "H-0000", "proposal_id": "P-0000",
          "batch_id": "20260101T000000Z-00000000", "entry_id": "000000000000"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# (method, path) -> who may call it, and what a call sends (valid, so the role is what decides)
MATRIX: dict[tuple[str, str], tuple[frozenset[str], dict[str, Any]]] = {
    ("GET", "/healthz"): (EVERYONE, {}),
    ("GET", "/readyz"): (EVERYONE, {}),
    ("GET", "/metrics"): (frozenset({"admin", "monitor"}), {}),
    ("GET", "/api/v1/session"): (EVERYONE, {}),
    ("POST", "/api/v1/session"): (EVERYONE, {"json": {"name": "ai-do", "password": "sai mật khẩu"}}),
    ("DELETE", "/api/v1/session"): (EVERYONE, {}),
    ("GET", "/api/v1/search"): (READERS, {"params": {"q": "lưu trữ"}}),
    ("GET", "/api/v1/documents/{doc_id}"): (READERS, {}),
    ("PATCH", "/api/v1/documents/{doc_id}"): (ARCHIVISTS, {"json": {"changes": {"title": "Tiêu đề"},
                                                                     "reason": "sửa lỗi"}}),
    ("GET", "/api/v1/documents/{doc_id}/pages/{n}/text"): (READERS, {}),
    ("GET", "/api/v1/documents/{doc_id}/pdf"): (READERS, {}),
    ("POST", "/api/v1/documents/{doc_id}/verify"): (READERS, {}),
    ("GET", "/api/v1/stats"): (READERS, {}),
    ("GET", "/api/v1/reports"): (READERS, {"params": {"format": "html"}}),
    ("GET", "/api/v1/audit"): (OFFICE, {}),
    ("GET", "/api/v1/holds"): (OFFICE, {}),
    ("POST", "/api/v1/holds"): (OFFICE, {"json": {"documents": [NOBODY_ID], "reason": "thanh tra", "case": "TT-1"}}),
    ("POST", "/api/v1/holds/{hold_id}/release"): (OFFICE, {"json": {"reason": "xong"}}),
    ("GET", "/api/v1/retention/due"): (OFFICE, {}),
    ("GET", "/api/v1/disposals"): (OFFICE, {}),
    ("POST", "/api/v1/disposals"): (OFFICE, {"json": {"documents": [NOBODY_ID]}}),
    ("GET", "/api/v1/disposals/{proposal_id}"): (OFFICE, {}),
    ("POST", "/api/v1/disposals/{proposal_id}/approve"): (OFFICE, {"json": {"decision": "QĐ 1", "council": "HĐ"}}),
    ("POST", "/api/v1/disposals/{proposal_id}/reject"): (OFFICE, {"json": {"reason": "chưa đủ"}}),
    ("POST", "/api/v1/disposals/{proposal_id}/execute"): (OFFICE, {}),
    ("GET", "/api/v1/batches"): (ARCHIVISTS, {}),
    ("POST", "/api/v1/batches"): (ARCHIVISTS, {"files": [("files", ("khong-phai.txt", b"not a document",
                                                                     "text/plain"))]}),
    ("GET", "/api/v1/batches/{batch_id}"): (ARCHIVISTS, {}),
    ("GET", "/api/v1/quarantine"): (ARCHIVISTS, {}),
    ("POST", "/api/v1/quarantine/{entry_id}/retry"): (ARCHIVISTS, {}),
}
OPEN = {("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/api/v1/session")}  # answer without sign-in


@pytest.fixture(scope="module")
def home(s3_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with build_home(s3_server, tmp_path_factory.mktemp("authz-home"), "authz") as made:
        yield made


@pytest.fixture(scope="module")
def tokens(home: Home) -> dict[str, str]:
    made = {}
    with home.context() as ctx:
        ctx.store.ensure_bucket()  # nothing was ingested here
        admin = operator(ctx)
        for name, roles in ROLES.items():
            add_user(ctx, admin, name, frozenset(roles), Classification.TUYET_MAT)
            made[name] = issue_token(ctx, admin, name, "authz").token
        add_user(ctx, admin, "public-admin", frozenset({Role.ADMIN}), Classification.PUBLIC)
        made["public-admin"] = issue_token(ctx, admin, "public-admin", "authz").token
    return made


@pytest.fixture(scope="module")
def app(home: Home, tokens: dict[str, str]) -> Iterator[Any]:
    made = create_app(home.settings)
    with TestClient(made, base_url="https://testserver"):
        yield made


def _call(app: Any, method: str, path: str, token: str | None) -> Any:
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    _, send = MATRIX[(method, path)]
    return client.request(method, path.format(**PARAMS), headers=headers, **send)


def test_the_matrix_names_every_operation(app: Any) -> None:
    spec = app.openapi()
    found = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert found == set(MATRIX)


@pytest.mark.parametrize("method,path", sorted(MATRIX))
def test_each_role_does_exactly_its_operations(app: Any, tokens: dict[str, str], method: str, path: str) -> None:
    allowed, _ = MATRIX[(method, path)]
    answers = {}
    for name in ROLES:
        response = _call(app, method, path, tokens[name])
        answers[name] = response.status_code
        if name in allowed:  # a wrong password is 401 on the open sign-in
            refused = (403,) if (method, path) in OPEN else (401, 403)
            assert response.status_code not in refused, (name, response.text)
        else:
            assert response.status_code == 403, (name, response.text)
            assert response.json()["error"]["code"] == "forbidden"
        if path != "/readyz":  # 503 there: no broker runs for this test, the service is rightly not ready
            assert response.status_code < 500, (name, response.text)
    if (method, path) != ("POST", "/api/v1/session"):  # the sign-in itself: a wrong password is its 401
        anonymous = _call(app, method, path, None)
        assert (anonymous.status_code != 401) == ((method, path) in OPEN), anonymous.text


def test_the_metrics_need_the_highest_clearance(app: Any, tokens: dict[str, str]) -> None:
    """They count documents of every classification: an administrator cleared for public documents only (or
    a monitor below the top) is refused, and the monitor role reads nothing but the metrics."""
    refused = _call(app, "GET", "/metrics", tokens["public-admin"])
    assert refused.status_code == 403 and "clearance" in refused.json()["error"]["message"]
    assert _call(app, "GET", "/metrics", tokens["monitor"]).text.startswith("# HELP")
