"""The server-rendered pages (Jinja2, plain forms, no JavaScript). Thin: each handler checks the
form's CSRF token, calls one Desk method and renders a template or redirects (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from journey.adherence import CHECKS_BY_ID
from journey.dates import in_words
from journey.errors import Conflict, EntryRefused, InvalidScenario, NotFound, OffPathway
from journey.events import COMMON_KEYS, EVENT_SPECS, OVERRIDE_REASONS, EventSpec, EventType
from journey.explain import clearing_prefill
from journey.pathway import PHASE_MEANING, Phase, diagram_edges, mermaid_diagram
from journey.reminders import RESOLVED_BY, ReminderKind, ReminderStatus
from tracker.application import (
    MAX_ID,
    SECTION_TITLES,
    Account,
    DismissReason,
    NotSignedIn,
    PatientView,
    Permission,
    SignInThrottled,
    SnoozeReason,
)
from tracker.web.auth import check_csrf, origin_of, page_desk, session_of, sign_in, sign_out, users_of
from tracker.web.desk import Desk
from tracker.web.present import (
    clearing_actions,
    may_record,
    record_url,
    register_filters,
    reminder_label,
    who_is_on_it,
)
from tracker.web.schemas import RefPath, ReminderId
from tracker.web.svg import pathway_svg, timeline_svg

templates = Jinja2Templates(directory=FilePath(__file__).resolve().parent / "templates")
register_filters(templates)
router = APIRouter(include_in_schema=False)
DeskDep = Annotated[Desk, Depends(page_desk)]
Csrf = Annotated[str, Form()]
#: where a form sends the browser back to (a local path of this site, _safe_next)
Back = Annotated[str, Form(max_length=2000)]


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


# -- kept forms: a refused form comes back on its page with what was typed -----------------------

#: the most of one typed value a refused form keeps (the forms' own limit for a note or a reason)
KEPT_CHARS = 500


def _keep(request: Request, *, given: dict[str, str], message: str, **state: Any) -> None:
    """Keep a refused form for the page it came from (post/redirect/get): its message and what
    was typed, shown once. It waits in the server-side session (tracker.web.auth), never in a
    cookie, and goes when the next page has shown it."""
    session = session_of(request)
    session["kept"] = {**state, "message": message[:2 * KEPT_CHARS],
                       "given": {k[:64]: str(v)[:KEPT_CHARS] for k, v in list(given.items())[:40]}}
    session["dirty"] = True


def _kept(request: Request) -> dict[str, Any] | None:
    session = session_of(request)
    kept = session.pop("kept", None)
    if kept is not None:
        session["dirty"] = True
    return kept if isinstance(kept, dict) else None


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _back(target: str | None, default: str) -> str:
    return _safe_next(target) if target else default


# -- the worklist ------------------------------------------------------------------------------

KINDS = tuple(k.value for k in ReminderKind)
SECTIONS_SHOWN = 50  # rows per section on the first view; "show all" lists up to SECTION_ALL
SECTION_ALL = 500


def _reminder_forms(desk: Desk) -> dict[str, Any]:
    """What the reminder actions (acknowledge, give to, snooze, dismiss) need on any page."""
    today = desk.tracker.clock.today()
    return {"snooze_reasons": tuple(r.value for r in SnoozeReason),
            "dismiss_reasons": tuple(r.value for r in DismissReason),
            "snooze_default": today + timedelta(days=7), "snooze_min": today + timedelta(days=1),
            "may_manage": desk.account.may(Permission.MANAGE_REMINDERS),
            "people": desk.people(),
            "zone": desk.tracker.settings.site_timezone, "today": today,
            "pseudonymous": desk.projection.pseudonymous, "names_people": desk.projection.names_people,
            "clearing": lambda kind, ref, rid, back: clearing_actions(desk.account, kind, ref, rid, back),
            "who_is_on_it": who_is_on_it}


@router.get("/worklist", response_class=HTMLResponse)
def worklist(request: Request, desk: DeskDep, team: str | None = None, kind: str | None = None,
             who: str | None = None, section: str | None = None) -> Response:
    team = team or None
    kind = kind if kind in KINDS else None
    who = who or ""
    person = who.removeprefix("person:") if who.startswith("person:") else None
    chosen = "mine" if who == "mine" else "untaken" if who == "untaken" else (person or "")
    section = section if section in SECTION_TITLES else None
    worklist = desk.worklist_sections(kind=kind, team=team, who=chosen, only=section,
                                      limit=SECTION_ALL if section else SECTIONS_SHOWN)
    filters = {k: v for k, v in (("team", team), ("kind", kind), ("who", who)) if v}
    return _render(request, "worklist.html", {
        "worklist": worklist, "team": team, "kind": kind, "who": who, "section": section,
        "teams": desk.teams(), "kinds": KINDS, "here": _here(request), "kept": _kept(request),
        "filters": filters, "filter_query": urlencode(filters), **_reminder_forms(desk),
    }, account=desk.account)


def _acted(request: Request, reminder_id: int, action: str, back: str, given: dict[str, Any],
           act: Callable[[], str]) -> RedirectResponse:
    """Do a reminder action and go back where it was asked from; a refusal goes back too, kept
    beside the reminder in words with what was typed."""
    target = _back(back, "/worklist")
    try:
        message = act()
    except (EntryRefused, InvalidScenario, Conflict, NotFound) as refused:
        _keep(request, reminder=reminder_id, action=action, message=refused.message, given=given)
        return RedirectResponse(f"{target}#reminder-{reminder_id}", status_code=303)
    return _flash_redirect(request, f"{target}#reminder-{reminder_id}", message)


@router.post("/reminders/{reminder_id}/acknowledge")
def acknowledge(request: Request, desk: DeskDep, reminder_id: ReminderId, csrf: Csrf,
                back: Back = "") -> Response:
    check_csrf(request, csrf)
    return _acted(request, reminder_id, "acknowledge", back, {},
                  lambda: desk.reminder_action("acknowledge", reminder_id))


@router.post("/reminders/{reminder_id}/assign")
def assign(request: Request, desk: DeskDep, reminder_id: ReminderId, csrf: Csrf,
           to: Annotated[str, Form(max_length=64)] = "",
           back: Back = "") -> Response:
    check_csrf(request, csrf)
    return _acted(request, reminder_id, "assign", back, {"to": to},
                  lambda: desk.assign(reminder_id, to or None))


def _day_typed(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidScenario(f"Give {what} as a date (for example {date(2025, 6, 8).isoformat()}); "
                              f"{text.strip() or 'nothing'!r} is not one.") from None


@router.post("/reminders/{reminder_id}/snooze")
def snooze(request: Request, desk: DeskDep, reminder_id: ReminderId, csrf: Csrf,
           until: Annotated[str, Form(max_length=32)] = "", reason: Annotated[str, Form(max_length=32)] = "",
           text: Annotated[str, Form(max_length=500)] = "",
           back: Back = "") -> Response:
    check_csrf(request, csrf)
    return _acted(request, reminder_id, "snooze", back, {"until": until, "reason": reason, "text": text},
                  lambda: desk.reminder_action("snooze", reminder_id,
                                               until=_day_typed(until, "the day to snooze until"),
                                               reason=reason, text=text.strip() or None))


@router.post("/reminders/{reminder_id}/dismiss")
def dismiss(request: Request, desk: DeskDep, reminder_id: ReminderId, csrf: Csrf,
            reason: Annotated[str, Form(max_length=32)] = "",
            text: Annotated[str, Form(max_length=500)] = "",
            back: Back = "") -> Response:
    check_csrf(request, csrf)
    return _acted(request, reminder_id, "dismiss", back, {"reason": reason, "text": text},
                  lambda: desk.reminder_action("dismiss", reminder_id, reason=reason,
                                               text=text.strip() or None))


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
    return [{"type": spec.type.value, "label": spec.label, "fields": spec.fields,
             "allowed": may_record(account, spec.type)} for spec in EVENT_SPECS.values()]


def _override_help(desk: Desk) -> dict[str, Any]:
    """Who may record an override, for those who may not (and the coded reasons, for those who may)."""
    roles, names = desk.who_may(Permission.OVERRIDE)
    return {"may_override": desk.account.may(Permission.OVERRIDE), "override_reasons": OVERRIDE_REASONS,
            "override_roles": " or ".join(r.value for r in roles), "override_people": names}


def _patient_context(request: Request, desk: Desk, view: PatientView, ref: str) -> dict[str, Any]:
    outcome = view.outcome
    shown = view.row.ref  # the view is already as this role may see it (tracker.application.privacy)
    stored = {(r.kind, r.opened_by): r for r in view.reminder_rows}
    url_ref = quote(ref, safe="")
    return {
        "view": view, "ref": shown, "url_ref": url_ref, "here": _here(request),
        "specs": {t.value: spec for t, spec in EVENT_SPECS.items()},
        "can_record": lambda e: may_record(desk.account, e),
        "record_href": lambda e: record_url(url_ref, e, back=_here(request)),
        "phase": outcome.phase.value, "phase_meaning": PHASE_MEANING[outcome.phase],
        "explanation": view.explanation(), "stored": stored, "kept": _kept(request),
        "reminders": desk.reminder_lines(view),
        "timing": view.row.timing, "sidedness": view.row.sidedness, "checks": CHECKS_BY_ID,
        **_reminder_forms(desk), **_override_help(desk),
    }


@router.get("/patients/{ref}", response_class=HTMLResponse)
def patient(request: Request, desk: DeskDep, ref: str) -> Response:
    view = desk.patient(ref)
    context = _patient_context(request, desk, view, ref)
    shown = context["ref"]
    return _render(request, "patient.html", {
        **context, "timeline": Markup(timeline_svg(view.outcome, shown)),
        "steps": list(reversed(view.outcome.steps)), "forms": _event_forms(desk.account),
    }, account=desk.account)


@router.get("/patients/{ref}/record/{event_type}", response_class=HTMLResponse)
def record_form(request: Request, desk: DeskDep, ref: RefPath,
                event_type: Annotated[str, Path(max_length=32)],
                reminder: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                back: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    """One record form, on its own: what the worklist's "Record ..." opens, pre-filled from the
    reminder it clears."""
    if event_type not in {t.value for t in EventType}:
        raise NotFound(f"There is no entry called {event_type!r} to record.")
    entry = EventType(event_type)
    view = desk.patient(ref)
    context = _patient_context(request, desk, view, ref)
    clears = next((r for r in view.reminder_rows if r.id == reminder), None)
    prefill = clearing_prefill(clears.kind, entry) if clears is not None and \
        entry.value in RESOLVED_BY[ReminderKind(clears.kind)] else {}
    kept = context["kept"] if context["kept"] and context["kept"].get("form") == event_type else None
    return _render(request, "record.html", {
        **context, "spec": EVENT_SPECS[entry], "allowed": may_record(desk.account, entry),
        "clears": clears, "values": kept["given"] if kept else prefill, "refusal": kept,
        "mdt_people": desk.who_may(Permission.RECORD_MDT)[1],
        "back": _back(back, f"/patients/{quote(ref, safe='')}"),
    }, status=200, account=desk.account)


def _typed_entry(form: Any, spec: EventSpec | None) -> dict[str, str]:
    names = [f.name for f in spec.fields] if spec else []
    raw: dict[str, str] = {}
    for key in (*COMMON_KEYS, *names):
        value = str(form.get(key, "")).strip()
        if value:
            raw[key] = value
    return raw


@router.post("/patients/{ref}/events", response_class=HTMLResponse)
async def record_event(request: Request, desk: DeskDep, ref: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf", "")))
    event_type = str(form.get("type", ""))
    spec = EVENT_SPECS.get(EventType(event_type)) if event_type in {t.value for t in EventType} else None
    raw = _typed_entry(form, spec)
    page = f"/patients/{quote(ref, safe='')}"
    origin = _back(str(form.get("origin", "")), page)
    back = _back(str(form.get("back", "")), page)
    version = _number(form.get("version"))
    reminder = _number(form.get("reminder"))
    try:
        entry = _with_override(raw)
        result = desk.record(ref, entry, expected_version=version)
    except (EntryRefused, InvalidScenario, Conflict) as refused:
        message = refused.message
        off_pathway = isinstance(refused, OffPathway)
        if off_pathway and not desk.account.may(Permission.OVERRIDE):
            roles, names = desk.who_may(Permission.OVERRIDE)
            message += (f" Only a {' or '.join(r.value for r in roles)} may record an override"
                        + (f": ask {', '.join(names)}." if names else "."))
        _keep(request, form=event_type, message=message, given=raw, off_pathway=off_pathway)
        return RedirectResponse(f"{origin}#refusal", status_code=303)
    label = spec.label if spec else event_type
    moved = (f"{result.phase_before} → {result.phase_after}" if result.phase_before != result.phase_after
             else f"stays in {result.phase_after}")
    cleared = ""
    if reminder is not None:
        after = desk.patient(ref)
        if after.reminder_status.get(reminder) is ReminderStatus.RESOLVED:
            row = next(r for r in after.reminder_rows if r.id == reminder)
            cleared = f" The {reminder_label(row.kind)} reminder of {after.row.ref} is done."
    return _flash_redirect(request, back, f"Recorded the {label} of {in_words(result.event.date)} for "
                                          f"{ref} ({moved}); now in {result.phase_now}.{cleared}")


def _number(value: object) -> int | None:
    """A form's version or reminder id, when it is one a database can hold (else None: unread)."""
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _with_override(raw: dict[str, str]) -> dict[str, str]:
    """The entry with its override as the form gives it: a coded reason (or "other", which needs
    words) and the words."""
    entry = {k: v for k, v in raw.items() if k != "override_code"}
    code = raw.get("override_code", "")
    if code == "other":
        if not entry.get("override"):
            raise InvalidScenario("An override for another reason needs the reason in words.")
        return entry
    return {**entry, "override_code": code} if code else entry


# -- audit and pathway -------------------------------------------------------------------------

@router.get("/audit", response_class=HTMLResponse)
def audit(request: Request, desk: DeskDep) -> Response:
    document = desk.audit()
    return _render(request, "audit.html", {"audit": document, "checks": CHECKS_BY_ID},
                   account=desk.account)


@router.get("/audit/report", response_class=HTMLResponse)
def audit_report(request: Request, desk: DeskDep) -> Response:
    """The audit report (charts and tables) on an app page, styled by the app's own stylesheet
    (the CSP forbids the self-contained file's inline CSS), with the way back."""
    return _render(request, "audit_report.html", {"report": Markup(desk.audit_report_body())},
                   account=desk.account)


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
