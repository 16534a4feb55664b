"""Correcting metadata through the pages (Starlette's TestClient on the real app, real S3 server): the
archivist's link and form, a correction saved as a new sealed version and shown, refusals kept on the form
(nothing to change, no reason, a bad date), staff get the 403 page, and a document above the archivist's
clearance is the 404 page."""

from __future__ import annotations

import re
from typing import Any

from pipeline.app.auth import set_password
from pipeline.app.users import add_user, operator
from pipeline.core.vocabulary import Classification, Role
from tests.app.conftest import Home
from tests.web.conftest import PASSWORD, SECRET
from tests.web.test_web_pages import sign_in


def _form(client: Any, doc_id: str) -> dict[str, str]:
    page = client.get(f"/documents/{doc_id}/edit")
    assert page.status_code == 200, page.text
    values = dict(re.findall(r'<input id="edit-[a-z_]+" name="([a-z_]+)" value="([^"]*)"', page.text))
    values.update(re.findall(r'<textarea id="edit-[a-z_]+" name="([a-z_]+)" rows="3">([^<]*)</textarea>', page.text))
    return values


def test_an_archivist_corrects_the_title(web_app: Any, world: dict[str, Any]) -> None:
    client, csrf = sign_in(web_app, "an")
    doc = world["public"]
    assert f'href="/documents/{doc}/edit"' in client.get(f"/documents/{doc}").text
    values = _form(client, doc)
    assert values["doc_number"] == "01/CT-VP" and values["issued_date"] == "02/11/2026"
    same = client.post(f"/documents/{doc}/edit", data={**values, "reason": "thử", "csrf_token": csrf})
    assert same.status_code == 400 and "nothing to change" in same.text
    no_reason = client.post(f"/documents/{doc}/edit", data={**values, "title": "Tiêu đề mới", "reason": "",
                                                            "csrf_token": csrf})
    assert no_reason.status_code == 400 and "Tiêu đề mới" in no_reason.text  # what was typed is kept
    bad_date = client.post(f"/documents/{doc}/edit", data={**values, "issued_date": "31/02/2026", "reason": "x",
                                                           "csrf_token": csrf})
    assert bad_date.status_code == 400 and "issued_date" in bad_date.text
    no_csrf = client.post(f"/documents/{doc}/edit", data={**values, "title": "Không token", "reason": "x"})
    assert no_csrf.status_code == 403
    saved = client.post(f"/documents/{doc}/edit", data={**values, "title": "Chỉ thị về văn bản điện tử",
                                                        "reason": "sai trích yếu", "csrf_token": csrf})
    assert saved.status_code == 303 and saved.headers["location"] == f"/documents/{doc}?edited=1"
    shown = client.get(saved.headers["location"]).text
    assert 'id="edit-done"' in shown and "Chỉ thị về văn bản điện tử" in shown


def test_staff_cannot_edit_and_an_unseen_document_does_not_exist(web_app: Any, web_home: Home,
                                                                  world: dict[str, Any]) -> None:
    staff, _ = sign_in(web_app, "lan")
    assert "/edit" not in staff.get(f"/documents/{world['public']}").text
    assert staff.get(f"/documents/{world['public']}/edit").status_code == 403
    with web_home.context() as ctx:  # an archivist cleared for public documents only
        add_user(ctx, operator(ctx), "binh", frozenset({Role.ARCHIVIST}), Classification.PUBLIC)
        set_password(ctx, operator(ctx), "binh", PASSWORD)
    archivist, csrf = sign_in(web_app, "binh")
    assert archivist.get(f"/documents/{world['secret']}/edit").status_code == 404
    posted = archivist.post(f"/documents/{world['secret']}/edit", data={"title": "x", "reason": "y",
                                                                       "csrf_token": csrf})
    assert posted.status_code == 404 and SECRET not in posted.text
