"""How the pages say things: dates and times in words, who is on a reminder, the action that
clears it, and the Jinja filters that carry them into the templates. Presentation only: what is
said comes from the domain (journey.explain, journey.events) and the application."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates

from journey.dates import in_words
from journey.events import EVENT_SPECS, EventType, value_in_words
from journey.explain import REMINDER_LABEL, clearing_entries
from journey.reminders import REMINDER_MEANING, ReminderKind
from tracker.application import Account, Permission

#: the button that records an entry, short enough for a worklist line
RECORD_VERB: dict[EventType, str] = {
    EventType.REASSESSMENT: "Record reassessment",
    EventType.SYSTEMIC_STOPPED: "Record stop",
    EventType.SYSTEMIC_RESUMED: "Record resumption",
    EventType.SYSTEMIC_STARTED: "Record therapy start",
    EventType.SURGERY: "Record operation",
    EventType.MDT_REVIEW: "Record MDT review",
}


def may_record(account: Account, entry: EventType | str) -> bool:
    return account.may(Permission.RECORD_EVENTS) and (
        EventType(entry) is not EventType.MDT_REVIEW or account.may(Permission.RECORD_MDT))


def record_url(url_ref: str, entry: EventType | str, reminder_id: int | None = None,
               back: str | None = None) -> str:
    query = {k: v for k, v in (("reminder", reminder_id), ("back", back)) if v is not None}
    return f"/patients/{url_ref}/record/{EventType(entry).value}" + (f"?{urlencode(query)}" if query else "")


@dataclass(frozen=True)
class Clearing:
    """An entry that clears a reminder, as a link to its form (or why this person cannot)."""

    entry: EventType
    verb: str
    label: str
    href: str
    allowed: bool


def clearing_actions(account: Account, kind: str, ref: str, reminder_id: int | None,
                     back: str | None) -> list[Clearing]:
    """The entries that clear a reminder of ``kind``, first the one a person records most."""
    url_ref = quote(ref, safe="")
    return [Clearing(e, RECORD_VERB.get(e, f"Record {EVENT_SPECS[e].label}"), EVENT_SPECS[e].label,
                     record_url(url_ref, e, reminder_id, back), may_record(account, e))
            for e in clearing_entries(kind)]


def local_time(instant: datetime | None, zone: str, today: date | None = None) -> str:
    """An instant as the site reads it: '1 Jun 2025, 09:12'; '1 Jun, 09:12' in the year of
    ``today``."""
    if instant is None:
        return ""
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=ZoneInfo("UTC"))
    local = aware.astimezone(ZoneInfo(zone))
    day = in_words(local.date())
    if today is not None and local.year == today.year:
        day = day.rsplit(" ", 1)[0]
    return f"{day}, {local:%H:%M}"


def person_of(actor: str | None) -> str:
    """The person behind an actor ('web:nina' is nina; 'cli:root' stays what it is)."""
    return (actor or "").removeprefix("web:")


def who_is_on_it(assignee: str | None, acknowledged_by: str | None, acknowledged_at: datetime | None,
                 zone: str, today: date | None = None) -> str:
    """'nina, acknowledged 1 Jun, 09:12'; 'carl (assigned, not yet acknowledged)'; 'not yet taken'."""
    seen = person_of(acknowledged_by)
    when = local_time(acknowledged_at, zone, today)
    if assignee and seen == assignee:
        return f"{assignee}, acknowledged {when}"
    if assignee and seen:
        return f"{assignee}; acknowledged by {seen} {when}"
    if assignee:
        return f"{assignee} (assigned, not yet acknowledged)"
    if seen:
        return f"acknowledged by {seen} {when}"
    return "not yet taken"


def reminder_label(kind: str) -> str:
    """'resectability reassessment' for reassessment_due."""
    return REMINDER_LABEL[ReminderKind(kind)] if kind in REMINDER_LABEL else kind.replace("_", " ")


def _day(value: date | None) -> str:
    return in_words(value) if value is not None else ""


def sentence_case(text: str) -> str:
    """The first letter upper case, the rest as it is ('MDT review' stays, 'operation' -> 'Operation')."""
    return text[:1].upper() + text[1:]


def entry_words(entry: EventType | str) -> str:
    """An entry type as a nurse calls it: 'systemic therapy started'."""
    return EVENT_SPECS[EventType(entry)].label if entry in set(EventType) else str(entry).replace("_", " ")


def register_filters(templates: Jinja2Templates) -> None:
    env = templates.env
    env.filters["day"] = _day
    env.filters["first_upper"] = sentence_case
    env.filters["entry"] = entry_words
    env.filters["words"] = value_in_words
    env.globals["REMINDER_MEANING"] = {k.value: v for k, v in REMINDER_MEANING.items()}
    env.globals["reminder_label"] = reminder_label


def kept_for(kept: dict[str, Any] | None, **match: Any) -> dict[str, Any] | None:
    """The refused form kept for the page, if it is the one described by ``match``."""
    if not kept or any(kept.get(k) != v for k, v in match.items()):
        return None
    return kept
