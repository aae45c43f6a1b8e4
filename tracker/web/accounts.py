"""People, in the web app and the API: a person changes their own password; an admin deactivates
and reactivates users, resets passwords and issues or revokes API tokens. Thin, as the rest: each
handler calls one Desk method (the role is checked there, the access log written there).

    API  POST /api/v1/users/{name}/deactivate | activate | reset-password | token | revoke-token
         POST /api/v1/me/password  {"current", "new"}
    page GET/POST /account/password          GET /admin/users   POST /admin/users (create)
         POST /admin/users/{name}/{deactivate|activate|reset-password|token|revoke-token}

A password or a token made here is shown once, on the answer itself (never kept for a later
page); a password change or reset and a deactivation end the person's sessions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from journey.errors import InvalidScenario, JourneyError
from tracker.application import MAX_PASSWORD, Permission, Role
from tracker.web.auth import api_desk, check_csrf, page_desk, sign_in
from tracker.web.desk import Desk
from tracker.web.pages import _flash_redirect, _render
from tracker.web.schemas import DoneOut, ErrorOut, PasswordChangeIn, PasswordOut, TokenOut

UserName = Annotated[str, Path(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$",
                               description="the user's sign-in name")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "no such user"}}

api_router = APIRouter(prefix="/api/v1", tags=["users"], responses={
    code: {"model": ErrorOut, "description": text} for code, text in (
        (401, "no valid API token"), (403, "the role does not allow it"), (422, "refused"))})
ApiDesk = Annotated[Desk, Depends(api_desk)]


@api_router.post("/users/{name}/deactivate", response_model=DoneOut, responses=NOT_FOUND)
def deactivate(desk: ApiDesk, name: UserName) -> DoneOut:
    """The user can no longer sign in: their sessions end now, their API token is revoked."""
    ended = desk.deactivate_user(name)
    return DoneOut(name=name, message=f"{name} is deactivated; {ended} session(s) ended, API token revoked.")


@api_router.post("/users/{name}/activate", response_model=DoneOut, responses=NOT_FOUND)
def activate(desk: ApiDesk, name: UserName) -> DoneOut:
    desk.activate_user(name)
    return DoneOut(name=name, message=f"{name} may sign in again; issue a token for the API.")


@api_router.post("/users/{name}/reset-password", response_model=PasswordOut, responses=NOT_FOUND)
def reset_password(desk: ApiDesk, name: UserName) -> PasswordOut:
    """A generated password, in the answer once; the user's sessions end, a sign-in lock lifts."""
    return PasswordOut(name=name, password=desk.reset_password(name))


@api_router.post("/users/{name}/token", response_model=TokenOut, responses=NOT_FOUND)
def issue_token(desk: ApiDesk, name: UserName) -> TokenOut:
    """A new API token, in the answer once; the old one stops working."""
    return TokenOut(name=name, token=desk.issue_token(name))


@api_router.post("/users/{name}/revoke-token", response_model=DoneOut, responses=NOT_FOUND)
def revoke_token(desk: ApiDesk, name: UserName) -> DoneOut:
    desk.revoke_token(name)
    return DoneOut(name=name, message=f"{name}'s API token no longer works.")


@api_router.post("/me/password", response_model=DoneOut)
def change_password(desk: ApiDesk, body: PasswordChangeIn) -> DoneOut:
    """Change your own password (the current one is checked, and throttled like a sign-in); your
    web sessions end."""
    desk.change_own_password(body.current, body.new)
    return DoneOut(name=desk.account.name, message="Password changed; your web sessions were signed out.")


# -- the pages ----------------------------------------------------------------------------------

pages_router = APIRouter(include_in_schema=False)
PageDesk = Annotated[Desk, Depends(page_desk)]
Csrf = Annotated[str, Form(max_length=64)]
Password = Annotated[str, Form(max_length=MAX_PASSWORD)]


def _page(request: Request, desk: Desk, name: str, context: dict[str, Any],
          status: int = 200) -> HTMLResponse:
    return _render(request, name, context, status=status, account=desk.account)


@pages_router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, desk: PageDesk) -> Response:
    return _page(request, desk, "password.html", {"error": None})


@pages_router.post("/account/password", response_class=HTMLResponse)
def password_change(request: Request, desk: PageDesk, csrf: Csrf, current: Password, new: Password,
                    again: Password) -> Response:
    check_csrf(request, csrf)
    try:
        if new != again:
            raise InvalidScenario("The two new passwords differ; type the same one twice.")
        desk.change_own_password(current, new)
    except JourneyError as e:
        return _page(request, desk, "password.html", {"error": e.message}, status=422)
    # every session of this person ended with the change; this browser starts a fresh one
    sign_in(request, desk.account, flash="Password changed; your other sessions were signed out.")
    return RedirectResponse("/worklist" if desk.account.role is not Role.ADMIN else "/admin/users",
                            status_code=303)


@pages_router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, desk: PageDesk) -> Response:
    return _users(request, desk)


def _users(request: Request, desk: Desk, shown_once: dict[str, str] | None = None,
           error: str | None = None, status: int = 200) -> HTMLResponse:
    return _page(request, desk, "users.html", {
        "users": desk.list_users(), "roles": [r.value for r in Role], "shown_once": shown_once,
        "error": error, "quote": quote}, status=status)


@pages_router.post("/admin/users", response_class=HTMLResponse)
def create_user(request: Request, desk: PageDesk, csrf: Csrf, name: Annotated[str, Form(max_length=64)],
                role: Annotated[str, Form(max_length=16)]) -> Response:
    check_csrf(request, csrf)
    desk.account.require(Permission.MANAGE_USERS)
    try:
        created = desk.add_user(name, role)
    except JourneyError as e:
        return _users(request, desk, error=e.message, status=422)
    return _users(request, desk, shown_once={"what": f"Created {name} ({role})", "password": created.password,
                                             "token": created.token})


UserAction = Literal["deactivate", "activate", "reset-password", "token", "revoke-token"]


@pages_router.post("/admin/users/{name}/{action}", response_class=HTMLResponse)
def user_action(request: Request, desk: PageDesk, name: UserName, action: UserAction, csrf: Csrf) -> Response:
    check_csrf(request, csrf)
    if action == "reset-password":
        return _users(request, desk, shown_once={"what": f"New password for {name}; their sessions ended",
                                                 "password": desk.reset_password(name)})
    if action == "token":
        return _users(request, desk, shown_once={"what": f"New API token for {name}; the old one stops",
                                                 "token": desk.issue_token(name)})
    if action == "deactivate":
        ended = desk.deactivate_user(name)
        message = f"{name} is deactivated; {ended} session(s) ended, API token revoked."
    elif action == "activate":
        desk.activate_user(name)
        message = f"{name} may sign in again."
    else:
        desk.revoke_token(name)
        message = f"{name}'s API token no longer works."
    return _flash_redirect(request, "/admin/users", message)
