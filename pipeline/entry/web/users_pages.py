"""User administration pages (administrators): the users with their roles and clearance, adding one, changing
roles, clearance or status, setting a password (typed twice; the user's browser sessions end) and revoking API
tokens. Each form calls the use cases ``archive user …`` and the REST API call (:mod:`pipeline.app.users`,
:mod:`pipeline.app.auth`, :mod:`pipeline.app.auth_tokens`), which check the admin role again and audit every
change; a password is never shown, logged or put back into a form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from pipeline.app import auth, auth_tokens, users
from pipeline.app.errors import Invalid, NotFound
from pipeline.core.vocabulary import Classification, Role
from pipeline.entry.api.auth import Caller
from pipeline.entry.api.common import call, context
from pipeline.entry.web.auth import PageCaller, require_role
from pipeline.entry.web.messages import add_messages, translate
from pipeline.entry.web.records_pages import Done, field, redirect, vn_time
from pipeline.entry.web.render import lang_of, render
from pipeline.entry.web.routing import page_router

router = page_router()
UserName = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$")]
TokenId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{4,64}$")]
RESULTS = ("added", "updated", "password", "revoked")

add_messages({
    "vi": {
        "users_title": "Người dùng", "users_name": "Tên đăng nhập", "users_roles": "Vai trò",
        "users_clearance": "Mức được xem", "users_status": "Trạng thái", "users_active": "Đang hoạt động",
        "users_disabled": "Đã khóa", "users_created": "Tạo lúc", "users_add": "Thêm người dùng",
        "users_add_hint": "2–64 ký tự: chữ thường không dấu, chữ số, '.', '_' hoặc '-'.",
        "users_edit": "Vai trò, mức được xem và trạng thái", "users_save": "Lưu thay đổi",
        "users_disable": "Khóa tài khoản", "users_password": "Đặt mật khẩu",
        "users_password_new": "Mật khẩu mới (ít nhất 12 ký tự)", "users_password_again": "Nhập lại mật khẩu",
        "users_password_hint": "Các phiên đăng nhập của người dùng này sẽ kết thúc.",
        "users_mismatch": "hai mật khẩu không giống nhau",
        "users_tokens": "Khóa API", "users_tokens_none": "Không có khóa API nào.", "users_token_id": "Mã khóa",
        "users_token_label": "Nhãn", "users_token_expires": "Hết hạn", "users_token_used": "Dùng lần cuối",
        "users_token_state": "Trạng thái", "users_token_active": "Còn hiệu lực", "users_token_expired": "Đã hết hạn",
        "users_token_revoked": "Đã thu hồi", "users_revoke": "Thu hồi",
        "users_revoke_confirm": "Thu hồi khóa API này? Các chương trình dùng khóa này sẽ không truy cập được nữa.",
        "users_done_added": "Đã thêm người dùng {name}: hãy đặt mật khẩu để người dùng đăng nhập.",
        "users_done_updated": "Đã cập nhật người dùng {name}.",
        "users_done_password": "Đã đặt mật khẩu cho {name}; các phiên đăng nhập cũ đã kết thúc.",
        "users_done_revoked": "Đã thu hồi khóa API của {name}.", "users_refused": "Không thực hiện được",
        "role_archivist": "Lưu trữ viên", "role_staff": "Cán bộ", "role_records-officer": "Văn thư lưu trữ",
        "role_admin": "Quản trị", "role_monitor": "Giám sát (chỉ số)", "users_back": "Danh sách người dùng",
    },
    "en": {
        "users_title": "Users", "users_name": "User name", "users_roles": "Roles",
        "users_clearance": "Clearance", "users_status": "Status", "users_active": "Active",
        "users_disabled": "Disabled", "users_created": "Created", "users_add": "Add a user",
        "users_add_hint": "2–64 characters: lowercase letters, digits, '.', '_' or '-'.",
        "users_edit": "Roles, clearance and status", "users_save": "Save",
        "users_disable": "Disable the account", "users_password": "Set the password",
        "users_password_new": "New password (at least 12 characters)", "users_password_again": "The password again",
        "users_password_hint": "The user's browser sessions end.",
        "users_mismatch": "the two passwords differ",
        "users_tokens": "API tokens", "users_tokens_none": "No API token.", "users_token_id": "Token id",
        "users_token_label": "Label", "users_token_expires": "Expires", "users_token_used": "Last used",
        "users_token_state": "State", "users_token_active": "Active", "users_token_expired": "Expired",
        "users_token_revoked": "Revoked", "users_revoke": "Revoke",
        "users_revoke_confirm": "Revoke this API token? Programs using it lose access.",
        "users_done_added": "User {name} added: set a password so that they can sign in.",
        "users_done_updated": "User {name} updated.",
        "users_done_password": "Password of {name} set; their earlier sessions have ended.",
        "users_done_revoked": "API token of {name} revoked.", "users_refused": "Not done",
        "role_archivist": "Archivist", "role_staff": "Staff", "role_records-officer": "Records officer",
        "role_admin": "Administrator", "role_monitor": "Monitoring (metrics)", "users_back": "All users",
    },
})


def _admin(who: Caller, action: str) -> None:
    require_role(who, Role.ADMIN, action)


def _roles(form: FormData) -> frozenset[Role]:
    return users.parse_roles([v for v in form.getlist("role") if isinstance(v, str)])


def _clearance(form: FormData) -> Classification:
    try:
        return Classification.parse(field(form, "clearance", 40))
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def _choices() -> dict[str, Any]:
    return {"roles": [r.value for r in Role], "levels": [(c.value, c.label_vi) for c in Classification]}


def _list_page(request: Request, who: Caller, error: str = "", values: dict[str, Any] | None = None) -> Response:
    _admin(who, "list users")
    rows = users.list_users(context(request), who.actor)
    return render(request, "users.html", status=400 if error else 200, who=who, users=rows, error=error,
                  values=values or {"roles": [], "clearance": "public", "name": ""}, vn=vn_time, **_choices())


@router.get("/users")
def users_page(request: Request, who: PageCaller) -> Response:
    return _list_page(request, who)


@router.post("/users")
async def add_user(request: Request, who: PageCaller) -> Response:
    _admin(who, "manage users")
    form = await request.form()
    name = field(form, "name", 64)
    try:
        await call(users.add_user, context(request), who.actor, name, _roles(form), _clearance(form))
    except Invalid as exc:
        kept = {"name": name, "roles": [v for v in form.getlist("role") if isinstance(v, str)],
                "clearance": field(form, "clearance", 40)}
        return await call(_list_page, request, who, str(exc), kept)
    return redirect(f"/users/{name}?done=added")


def _user_page(request: Request, who: Caller, name: str, done: str | None = None, error: str = "") -> Response:
    _admin(who, "manage users")
    ctx = context(request)
    row = next((u for u in users.list_users(ctx, who.actor) if u["name"] == name), None)
    if row is None:
        raise NotFound(f"no user {name!r}")
    tokens = auth_tokens.list_tokens(ctx, who.actor, name)
    return render(request, "users_edit.html", status=400 if error else 200, who=who, row=row, tokens=tokens,
                  done=f"users_done_{done}" if done in RESULTS else "", error=error, vn=vn_time, **_choices())


@router.get("/users/{name}")
def user_page(request: Request, who: PageCaller, name: UserName, done: Done = None) -> Response:
    return _user_page(request, who, name, done)


@router.post("/users/{name}")
async def update_user(request: Request, who: PageCaller, name: UserName) -> Response:
    """Roles, clearance and status, as ticked (the form shows the current ones)."""
    _admin(who, "manage users")
    form = await request.form()
    try:
        roles = _roles(form)
        if not roles:
            raise Invalid("give at least one role")
        await call(users.update_user, context(request), who.actor, name, roles, _clearance(form),
                   form.get("disabled") == "1")
    except Invalid as exc:
        return await call(_user_page, request, who, name, None, str(exc))
    return redirect(f"/users/{name}?done=updated")


@router.post("/users/{name}/password")
async def set_password(request: Request, who: PageCaller, name: UserName) -> Response:
    """The new password, typed twice (compared here; the rules are the application layer's)."""
    _admin(who, "set passwords")
    form = await request.form()
    first, again = form.get("password"), form.get("password_again")
    try:
        if not isinstance(first, str) or not isinstance(again, str) or first != again:
            raise Invalid(translate(lang_of(request), "users_mismatch"))
        await call(auth.set_password, context(request), who.actor, name, first)
    except Invalid as exc:
        return await call(_user_page, request, who, name, None, str(exc))
    return redirect(f"/users/{name}?done=password")


@router.post("/users/{name}/tokens/{token_id}/revoke")
async def revoke_token(request: Request, who: PageCaller, name: UserName, token_id: TokenId) -> Response:
    _admin(who, "revoke API tokens")
    await request.form()
    try:
        revoked = await call(auth_tokens.revoke_token, context(request), who.actor, token_id)
    except Invalid as exc:
        return await call(_user_page, request, who, name, None, str(exc))
    return redirect(f"/users/{revoked['user']}?done=revoked")
