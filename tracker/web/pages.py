"""The server-rendered pages (Jinja2, plain forms, no JavaScript). Thin: each handler checks the
form's CSRF token, calls one Desk method and renders a template or redirects (post/redirect/get).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from journey.errors import EntryRefused, InvalidScenario
from journey.events import COMMON_KEYS, EVENT_SPECS, EventType
from journey.pathway import PHASE_MEANING, Phase, diagram_edges, mermaid_diagram
from journey.reminders import REMINDER_MEANING, ReminderKind
from tracker.application import Account, DismissReason, NotSignedIn, Permission, SignInThrottled, SnoozeReason
from tracker.web.auth import check_csrf, origin_of, page_desk, session_of, sign_in, sign_out, users_of
from tracker.web.desk import Desk
from tracker.web.svg import pathway_svg, timeline_svg

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
router = APIRouter(include_in_schema=False)
DeskDep = Annotated[Desk, Depends(page_desk)]
Csrf = Annotated[str, Form()]


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200,
            account: Account | None = None) -> HTMLResponse:
    session = session_of(request)
    flash = session.pop("flash", None)
    if flash:
        session["dirty"] = True
    base = {"account": account, "csrf": session["csrf"], "flash": flash,
            "Permission": Permission, "path": request.url.path}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return _render(request, "error.html", {"status": status, "message": message}, status)


def _flash_redirect(request: Request, url: str, message: str) -> RedirectResponse:
    session = session_of(request)
    session["flash"], session["dirty"] = message, True
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a local path: never redirect a signed-in person to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/worklist"


# -- signing in and out ------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, csrf: Csrf, name: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=256)],
          next: Annotated[str, Form()] = "/worklist") -> Response:
    check_csrf(request, csrf)
    try:
        account = users_of(request).authenticate(name, password, origin_of(request, "web"))
    except NotSignedIn as e:
        return _render(request, "login.html", {"next": _safe_next(next), "error": e.message, "name": name},
                       status=429 if isinstance(e, SignInThrottled) else 401)
    # a new server-side session: a new CSRF token, so a token planted before sign-in is worthless
    sign_in(request, account, flash=f"Signed in as {account.name} ({account.role.value}).")
    target = _safe_next(next)
    if target == "/worklist" and not account.may(Permission.READ_PATIENTS):
        target = "/admin/users"  # an admin sees no patients: their page is the users'
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Csrf) -> Response:
    check_csrf(request, csrf)
    sign_out(request)  # the session ends on the server: a saved copy of the cookie opens nothing
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/worklist", status_code=303)


# -- the worklist ------------------------------------------------------------------------------

@router.get("/worklist", response_class=HTMLResponse)
def worklist(request: Request, desk: DeskDep, team: str | None = None, kind: str | None = None) -> Response:
    team, kind = team or None, kind or None
    items = desk.worklist(kind=kind, team=team)
    today = desk.tracker.clock.today()
    return _render(request, "worklist.html", {
        "items": items, "team": team, "kind": kind, "teams": desk.teams(), "today": today,
        "kinds": [k.value for k in ReminderKind], "meaning": REMINDER_MEANING,
        "snooze_reasons": tuple(r.value for r in SnoozeReason),
        "dismiss_reasons": tuple(r.value for r in DismissReason),
        "snooze_default": today + timedelta(days=7),
        "may_manage": desk.account.may(Permission.MANAGE_REMINDERS),
        "query": urlencode({k: v for k, v in (("team", team), ("kind", kind)) if v}),
    }, account=desk.account)


def _back_to_worklist(query: str) -> str:
    return "/worklist" + (f"?{query}" if query and "\n" not in query else "")


@router.post("/reminders/{reminder_id}/acknowledge")
def acknowledge(request: Request, desk: DeskDep, reminder_id: int, csrf: Csrf,
                back: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    message = desk.reminder_action("acknowledge", reminder_id)
    return _flash_redirect(request, _back_to_worklist(back), message)


@router.post("/reminders/{reminder_id}/snooze")
def snooze(request: Request, desk: DeskDep, reminder_id: int, csrf: Csrf,
           until: Annotated[date, Form()], reason: Annotated[str, Form(max_length=32)],
           text: Annotated[str, Form(max_length=500)] = "", back: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    message = desk.reminder_action("snooze", reminder_id, until=until, reason=reason, text=text or None)
    return _flash_redirect(request, _back_to_worklist(back), message)


@router.post("/reminders/{reminder_id}/dismiss")
def dismiss(request: Request, desk: DeskDep, reminder_id: int, csrf: Csrf,
            reason: Annotated[str, Form(max_length=32)],
            text: Annotated[str, Form(max_length=500)] = "", back: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    message = desk.reminder_action("dismiss", reminder_id, reason=reason, text=text or None)
    return _flash_redirect(request, _back_to_worklist(back), message)


# -- patients ----------------------------------------------------------------------------------

@router.get("/patients", response_class=HTMLResponse)
def patients(request: Request, desk: DeskDep, phase: str | None = None, team: str | None = None) -> Response:
    phase = phase if phase in {p.value for p in Phase} else None
    rows = [{"shown": r.ref, "care_team": r.care_team, "phase": r.phase,
             "phase_on": r.phase_on, "timing": r.timing}
            for r in desk.patients(phase, team or None, limit=500)]
    return _render(request, "patients.html", {
        "rows": rows, "phase": phase, "team": team, "phases": [p.value for p in Phase],
        "teams": desk.teams(), "meaning": {p.value: PHASE_MEANING[p] for p in Phase}},
        account=desk.account)


def _event_forms(account: Account) -> list[dict[str, Any]]:
    """The record-event forms, generated from EVENT_SPECS (the one vocabulary)."""
    forms = []
    for spec in EVENT_SPECS.values():
        allowed = account.may(Permission.RECORD_EVENTS) and (
            spec.type is not EventType.MDT_REVIEW or account.may(Permission.RECORD_MDT))
        forms.append({"type": spec.type.value, "label": spec.label, "fields": spec.fields,
                      "allowed": allowed})
    return forms


def _patient_page(request: Request, desk: Desk, ref: str, status: int = 200,
                  refusal: dict[str, Any] | None = None) -> HTMLResponse:
    view = desk.patient(ref)  # as this role may see it (tracker.application.privacy)
    outcome = view.outcome
    shown = view.row.ref
    return _render(request, "patient.html", {
        "view": view, "ref": shown, "url_ref": quote(ref, safe=""),
        "phase": outcome.phase.value, "phase_meaning": PHASE_MEANING[outcome.phase],
        "timeline": Markup(timeline_svg(outcome, shown)), "reminders": desk.reminder_lines(view),
        "steps": list(reversed(outcome.steps)), "forms": _event_forms(desk.account),
        "may_override": desk.account.may(Permission.OVERRIDE), "today": desk.tracker.clock.today(),
        "refusal": refusal, "timing": view.row.timing, "sidedness": view.row.sidedness,
        "pseudonymous": desk.account.pseudonymous,
    }, status=status, account=desk.account)


@router.get("/patients/{ref}", response_class=HTMLResponse)
def patient(request: Request, desk: DeskDep, ref: str) -> Response:
    return _patient_page(request, desk, ref)


@router.post("/patients/{ref}/events", response_class=HTMLResponse)
async def record_event(request: Request, desk: DeskDep, ref: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    event_type = str(form.get("type", ""))
    spec = EVENT_SPECS.get(EventType(event_type)) if event_type in {t.value for t in EventType} else None
    names = [f.name for f in spec.fields] if spec else []
    raw: dict[str, Any] = {}
    for key in (*COMMON_KEYS, *names):
        value = str(form.get(key, "")).strip()
        if value:
            raw[key] = value
    version_text = str(form.get("version", "")).strip()
    readable = version_text.isascii() and version_text.isdigit() and len(version_text) < 10
    version = int(version_text) if readable else None
    try:
        result = desk.record(ref, raw, expected_version=version)
    except (EntryRefused, InvalidScenario) as refused:
        return _patient_page(request, desk, ref, status=422, refusal={
            "type": event_type, "message": refused.message, "given": raw})
    moved = (f"{result.phase_before} → {result.phase_after}" if result.phase_before != result.phase_after
             else f"stays in {result.phase_after}")
    label = spec.label if spec else event_type
    return _flash_redirect(request, f"/patients/{quote(ref, safe='')}",
                           f"Recorded the {label} of {result.event.date} ({moved}); "
                           f"now in {result.phase_now}.")


# -- audit and pathway -------------------------------------------------------------------------

@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, desk: DeskDep) -> Response:
    document = desk.audit()
    return _render(request, "audit.html", {"audit": document}, account=desk.account)


@router.get("/audit/report", response_class=HTMLResponse)
def audit_report(desk: DeskDep) -> Response:
    """The audit's own self-contained HTML report (charts and tables)."""
    return HTMLResponse(desk.audit_report())


def _grouped_edges() -> list[tuple[str, str, str]]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for src, dst, trigger in diagram_edges():
        grouped.setdefault((src, dst), []).append(trigger.replace("_", " "))
    return [(src, dst, ", ".join(triggers)) for (src, dst), triggers in grouped.items()]


@router.get("/pathway", response_class=HTMLResponse)
def pathway(request: Request, desk: DeskDep) -> Response:
    return _render(request, "pathway.html", {
        "picture": Markup(pathway_svg()), "mermaid": mermaid_diagram(), "edges": _grouped_edges(),
        "phases": [(p.value, PHASE_MEANING[p]) for p in Phase]}, account=desk.account)
