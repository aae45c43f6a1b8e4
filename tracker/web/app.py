"""The web app factory: pages, API, static files, sessions, the request size limit, the
headers every answer carries, and the one error mapping."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from journey.errors import Conflict, EntryRefused, InvalidScenario, JourneyError, NotFound
from tracker.application import AccessDenied, NotSignedIn, SignInThrottled, Tracker, Users
from tracker.web import accounts, api, fhir, pages
from tracker.web.auth import CsrfRefused, Sessions, is_api

HERE = Path(__file__).resolve().parent

#: the error hierarchy mapped to HTTP statuses, once (first match wins)
HTTP_STATUS: list[tuple[type[JourneyError], int]] = [
    (CsrfRefused, 403), (SignInThrottled, 429), (NotSignedIn, 401), (AccessDenied, 403),
    (EntryRefused, 422), (InvalidScenario, 400), (NotFound, 404), (Conflict, 409)]

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def status_of(error: JourneyError) -> int:
    return next((code for cls, code in HTTP_STATUS if isinstance(error, cls)), 400)


class BodyLimit:
    """Refuses a request body larger than ``max_bytes`` with 413, whether it says its length up
    front or streams it in chunks: the handler's read stops at the limit, nothing more is kept."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        too_large = StarletteHTTPException(
            413, f"The request is larger than {self.max_bytes:,} bytes; send less (a note or a reason is at "
                 f"most 500 characters).")
        if declared.isdigit() and int(declared) > self.max_bytes:
            async def refuse() -> Message:
                raise too_large
            await self.app(scope, refuse, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise too_large
            return message

        await self.app(scope, counted, send)


def create_app(tracker: Tracker, users: Users | None = None) -> FastAPI:
    """The FastAPI application over one Tracker (pages at /, API at /api/v1)."""
    app = FastAPI(title="CRLM journey tracker", version="1",
                  description="The nurse-navigator API: patients, events, reminders, worklist, "
                              "recommendations, audit and exports. Authenticate with "
                              "'Authorization: Bearer TOKEN' (journey user add / journey user token).",
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    settings = tracker.settings
    app.state.tracker = tracker
    app.state.users = users = users or tracker.users
    # the sign-in form's cookie is signed with the site's session secret (`journey serve` refuses
    # to start without one); an app built without it (a test) signs with a key of its own
    sessions = Sessions(users, settings.session_secret.get_secret_value() or secrets.token_urlsafe(32))
    app.state.sessions = sessions
    hsts = f"max-age={settings.hsts_seconds}" if settings.hsts_seconds else None
    # the innermost middleware (added first): its refusal reaches the handlers as a plain 413,
    # not wrapped by the session middleware's task group
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)

    @app.middleware("http")
    async def session_middleware(request: Request,
                                 call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        page = not is_api(request) and not request.url.path.startswith("/static/")
        if page:
            sessions.load(request)
        response = await call_next(request)
        if page:
            sessions.save(request, response)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages and API alike
        if hsts and request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", hsts)
        return response

    @app.exception_handler(JourneyError)
    async def journey_error(request: Request, error: JourneyError) -> Response:
        code = status_of(error)
        if is_api(request):
            headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
            if isinstance(error, SignInThrottled):
                headers = {"Retry-After": str(error.retry_after_seconds)}
            return JSONResponse({"error": error.code, "message": error.message}, status_code=code,
                                headers=headers)
        if code == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        return pages.error_page(request, code, error.message)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problems = []
        for item in error.errors()[:5]:
            where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path"))
            problems.append(f"{where or 'request'}: {item.get('msg', 'invalid')}")
        message = "The request could not be read: " + "; ".join(problems) + "."
        if is_api(request):
            return JSONResponse({"error": "invalid-request", "message": message}, status_code=422)
        return pages.error_page(request, 400, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = str(error.detail)
        if is_api(request):
            return JSONResponse({"error": "http-error", "message": message}, status_code=error.status_code,
                                headers=getattr(error, "headers", None))
        return pages.error_page(request, error.status_code, message)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # one router per concern, one line each
    app.include_router(api.router)  # the REST API under /api/v1
    app.include_router(fhir.router)  # /api/v1/patients/{ref}/fhir, /api/v1/fhir (docs/fhir.md)
    app.include_router(accounts.api_router)  # /api/v1/users/{name}/..., /api/v1/me/password
    app.include_router(pages.router)  # the pages
    app.include_router(accounts.pages_router)  # /account/password, /admin/users
    return app
