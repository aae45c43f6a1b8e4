"""The web app factory: pages, API, static files, sessions, and the one error mapping."""

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

from journey.errors import Conflict, EntryRefused, InvalidScenario, JourneyError, NotFound
from tracker.application import AccessDenied, NotSignedIn, Tracker, Users
from tracker.web import api, fhir, pages
from tracker.web.auth import CsrfRefused, Sessions

HERE = Path(__file__).resolve().parent

#: the error hierarchy mapped to HTTP statuses, once (first match wins)
HTTP_STATUS: list[tuple[type[JourneyError], int]] = [
    (CsrfRefused, 403), (NotSignedIn, 401), (AccessDenied, 403), (EntryRefused, 422),
    (InvalidScenario, 400), (NotFound, 404), (Conflict, 409)]

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


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(tracker: Tracker, users: Users | None = None) -> FastAPI:
    """The FastAPI application over one Tracker (pages at /, API at /api/v1)."""
    app = FastAPI(title="CRLM journey tracker", version="1",
                  description="The nurse-navigator API: patients, events, reminders, worklist, "
                              "recommendations, audit and exports. Authenticate with "
                              "'Authorization: Bearer TOKEN' (journey user add / journey user token).",
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    app.state.tracker = tracker
    app.state.users = users or tracker.users
    sessions = Sessions(tracker.settings.session_secret or secrets.token_urlsafe(32))
    app.state.sessions = sessions

    @app.middleware("http")
    async def session_middleware(request: Request,
                                 call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        session = sessions.read(request)
        request.state.session = session
        response = await call_next(request)
        current = request.state.session
        changed = current.get("new") or current is not session or current.get("dirty")
        if changed and not _is_api(request):
            sessions.write(response, current, secure=request.url.scheme == "https")
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not _is_api(request) and not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(JourneyError)
    async def journey_error(request: Request, error: JourneyError) -> Response:
        code = status_of(error)
        if _is_api(request):
            headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
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
        if _is_api(request):
            return JSONResponse({"error": "invalid-request", "message": message}, status_code=422)
        return pages.error_page(request, 400, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = str(error.detail)
        if _is_api(request):
            return JSONResponse({"error": "http-error", "message": message}, status_code=error.status_code,
                                headers=getattr(error, "headers", None))
        return pages.error_page(request, error.status_code, message)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # one router per concern, one line each
    app.include_router(api.router)  # the REST API under /api/v1
    app.include_router(fhir.router)  # /api/v1/patients/{ref}/fhir, /api/v1/fhir (docs/fhir.md)
    app.include_router(pages.router)  # the pages
    return app
