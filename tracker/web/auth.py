"""Who is asking: server-side sessions and CSRF tokens for the pages, bearer tokens for the API.

A signed-in browser holds one cookie, ``journey_session``: a random token that means nothing by
itself; the session it opens is a row (tracker.application.Users, web_session), found by the
token's SHA-256, holding the account, the CSRF token and what the next page shows once: a message,
and a refused form with what was typed (``kept``: post/redirect/get brings it back beside its form).
Signing out, a password change, a deactivation, ``session_idle_minutes`` without a request and
``session_lifetime_hours`` after sign-in end it, whatever copies of the cookie exist.

Before sign-in (the sign-in form itself) a second cookie, ``journey_form``, carries only a random
CSRF token (and, after signing out, a fixed public notice), signed with ``session_secret`` so that
a planted value is refused. Every form posts its CSRF token back; a post whose token does not
match is refused. Signing in starts a new session with a new token, so a token seen before
sign-in is worthless after it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer

from tracker.application import SESSION_ENDED, Account, NotSignedIn, Origin, Tracker, Users, WebSession
from tracker.web.desk import Desk

SESSION_COOKIE = "journey_session"
FORM_COOKIE = "journey_form"
FORM_COOKIE_MAX_AGE = 12 * 60 * 60
SIGNED_OUT = "Signed out."
#: the only messages a cookie may carry (before sign-in): fixed sentences that say nothing about
#: anyone; everything else waits in the session row
PUBLIC_NOTICES = frozenset({SIGNED_OUT, *SESSION_ENDED.values()})


class CsrfRefused(NotSignedIn):
    """The form's CSRF token did not match the session's: the page was stale or forged."""

    code = "csrf-refused"


def origin_of(request: Request, channel: str) -> Origin:
    """The channel and the client address (as the server saw it: a trusted proxy's
    X-Forwarded-For is applied by uvicorn, docs/security.md)."""
    return Origin(channel, request.client.host if request.client else "")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def tracker_of(request: Request) -> Tracker:
    return request.app.state.tracker


def users_of(request: Request) -> Users:
    return request.app.state.users


class Sessions:
    """Reads the session of a page request before its handler and keeps what changed after it.

    Handlers see ``session_of(request)``, a dict: ``uid``, ``csrf``, ``flash`` and ``kept`` (a page
    pops them and sets ``dirty``; a redirect sets new ones), and call :func:`sign_in` and
    :func:`sign_out`. Only a signed-in session keeps a refused form: the sign-in form's cookie
    carries nothing typed."""

    def __init__(self, users: Users, secret: str) -> None:
        self.users = users
        self.forms = URLSafeTimedSerializer(secret, salt="journey-form")

    def load(self, request: Request) -> None:
        request.state.web_session = None
        request.state.session_change = None
        token = request.cookies.get(SESSION_COOKIE)
        notice = None
        if token:
            web, notice = self.users.open_session(token[:128], origin_of(request, "web"))
            if web is not None:
                request.state.web_session = web
                request.state.session = {"uid": web.account.id, "csrf": web.csrf, "flash": web.flash,
                                         "kept": web.kept}
                return
            request.state.session_change = "stale"
        request.state.session = self._anonymous(request)
        if notice:
            request.state.session.update(flash=notice, dirty=True)

    def _anonymous(self, request: Request) -> dict[str, Any]:
        raw = request.cookies.get(FORM_COOKIE)
        if raw:
            try:
                data = self.forms.loads(raw, max_age=FORM_COOKIE_MAX_AGE)
                if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                    return {"uid": None, "csrf": data["csrf"], "flash": data.get("flash")}
            except BadSignature:
                pass
        return {"uid": None, "csrf": secrets.token_urlsafe(24), "flash": None, "new": True}

    def save(self, request: Request, response: Response) -> None:
        secure = request.url.scheme == "https"
        change = request.state.session_change
        current: dict[str, Any] = request.state.session
        if change == "signed-in":
            response.set_cookie(SESSION_COOKIE, request.state.session_token, httponly=True, samesite="lax",
                                secure=secure, path="/")
            response.delete_cookie(FORM_COOKIE, path="/")
            return
        if change in ("signed-out", "stale"):
            response.delete_cookie(SESSION_COOKIE, path="/")
        web: WebSession | None = request.state.web_session
        if web is not None and change is None:
            if current.get("dirty"):
                self.users.set_next_page(web, current.get("flash"), current.get("kept"))
            return
        if change is not None or current.get("new") or current.get("dirty"):
            flash = current.get("flash") if current.get("flash") in PUBLIC_NOTICES else None
            payload = {"csrf": current["csrf"], **({"flash": flash} if flash else {})}
            response.set_cookie(FORM_COOKIE, self.forms.dumps(payload), max_age=FORM_COOKIE_MAX_AGE,
                                httponly=True, samesite="lax", secure=secure, path="/")


def session_of(request: Request) -> dict[str, Any]:
    """The session the middleware read for this request."""
    return request.state.session


def sign_in(request: Request, account: Account, flash: str | None = None) -> None:
    """Start a new server-side session for ``account`` (a new token and a new CSRF token); the
    response carries its cookie. A session this browser had before ends."""
    sign_out(request)
    token, web = users_of(request).start_session(account, origin_of(request, "web"), flash)
    request.state.session_token = token
    request.state.web_session = web
    request.state.session_change = "signed-in"
    request.state.session = {"uid": account.id, "csrf": web.csrf, "flash": flash}


def sign_out(request: Request) -> None:
    """End this browser's session (server-side: a saved copy of the cookie opens nothing)."""
    web: WebSession | None = request.state.web_session
    if web is not None:
        users_of(request).end_session(web, origin_of(request, "web"))
    request.state.web_session = None
    request.state.session_change = "signed-out"
    request.state.session = {"uid": None, "csrf": secrets.token_urlsafe(24), "flash": SIGNED_OUT}


# -- the pages ----------------------------------------------------------------------------------

def page_account(request: Request) -> Account:
    web: WebSession | None = getattr(request.state, "web_session", None)
    if web is None:
        raise NotSignedIn("Please sign in.")
    return web.account


def check_csrf(request: Request, token: str | None) -> None:
    expected = session_of(request)["csrf"]
    if not token or not hmac.compare_digest(str(token), expected):
        raise CsrfRefused("This form has expired or did not come from this site; reload the page "
                          "and try again.")


def page_desk(request: Request, account: Annotated[Account, Depends(page_account)]) -> Desk:
    return Desk(tracker_of(request), users_of(request), account, origin_of(request, "web"))


# -- the API ------------------------------------------------------------------------------------

bearer = HTTPBearer(auto_error=False, description="An API token from `journey user add` or "
                    "`journey user token`.")


def api_account(request: Request,
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Account:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise NotSignedIn("Send your API token as 'Authorization: Bearer TOKEN'.")
    return users_of(request).by_token(credentials.credentials[:256], origin_of(request, "api"))


def api_desk(request: Request, account: Annotated[Account, Depends(api_account)]) -> Desk:
    return Desk(tracker_of(request), users_of(request), account, origin_of(request, "api"))
