"""Who is asking: session cookies and CSRF tokens for the pages, bearer tokens for the API.

The session cookie is signed (itsdangerous), HttpOnly and SameSite=Lax, and carries only the
account id and the session's CSRF token. Every form posts that token back; a post whose token
does not match is refused. Signing in rotates the token, so a token seen before sign-in is
worthless after it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer

from tracker.application import Account, NotSignedIn, Tracker, Users
from tracker.web.desk import Desk

SESSION_COOKIE = "journey_session"
SESSION_MAX_AGE = 12 * 60 * 60  # a working day; then sign in again


class CsrfRefused(NotSignedIn):
    """The form's CSRF token did not match the session's: the page was stale or forged."""

    code = "csrf-refused"


class Sessions:
    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="journey-session")

    def read(self, request: Request) -> dict[str, Any]:
        raw = request.cookies.get(SESSION_COOKIE)
        if raw:
            try:
                data = self.serializer.loads(raw, max_age=SESSION_MAX_AGE)
                if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                    return data
            except BadSignature:
                pass
        return {"uid": None, "csrf": secrets.token_urlsafe(24), "new": True}

    def write(self, response: Response, data: dict[str, Any], secure: bool = False) -> None:
        payload = {"uid": data.get("uid"), "csrf": data["csrf"]}
        if data.get("flash"):
            payload["flash"] = str(data["flash"])[:500]
        if data.get("kept"):  # a refused form, shown once on the page it came from (tracker.web.pages)
            payload["kept"] = data["kept"]
        response.set_cookie(SESSION_COOKIE, self.serializer.dumps(payload), max_age=SESSION_MAX_AGE,
                            httponly=True, samesite="lax", secure=secure, path="/")


def tracker_of(request: Request) -> Tracker:
    return request.app.state.tracker


def users_of(request: Request) -> Users:
    return request.app.state.users


def session_of(request: Request) -> dict[str, Any]:
    """The session the middleware read for this request."""
    return request.state.session


# -- the pages ----------------------------------------------------------------------------------

def page_account(request: Request) -> Account:
    uid = session_of(request).get("uid")
    account = users_of(request).get(uid) if isinstance(uid, int) else None
    if account is None:
        raise NotSignedIn("Please sign in.")
    return account


def check_csrf(request: Request, token: str | None) -> None:
    expected = session_of(request)["csrf"]
    if not token or not hmac.compare_digest(str(token), expected):
        raise CsrfRefused("This form has expired or did not come from this site; reload the page "
                          "and try again.")


def page_desk(request: Request, account: Annotated[Account, Depends(page_account)]) -> Desk:
    return Desk(tracker_of(request), users_of(request), account)


# -- the API ------------------------------------------------------------------------------------

bearer = HTTPBearer(auto_error=False, description="An API token from `journey user add` or "
                    "`journey user token`.")


def api_account(request: Request,
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Account:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise NotSignedIn("Send your API token as 'Authorization: Bearer TOKEN'.")
    return users_of(request).by_token(credentials.credentials)


def api_desk(request: Request, account: Annotated[Account, Depends(api_account)]) -> Desk:
    return Desk(tracker_of(request), users_of(request), account)
