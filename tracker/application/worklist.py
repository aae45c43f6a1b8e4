"""The worklist: every reminder awaited across patients, in the sections a navigator works by.

* **Overdue**: past the due day and the grace period (``JOURNEY_REMINDER_GRACE_DAYS``);
* **Due today**;
* **Within grace**: past the due day, not yet overdue;
* **Due this week**: the look-ahead, falling due in the next ``JOURNEY_WORKLIST_AHEAD_DAYS``
  days (default 7; 0 turns it off).

Each section is a range of due days, so one ordering (earliest due first) serves them all; each
has its count, whatever is shown. Filters: a reminder kind, a care team, one person's (the
assignee), or those nobody has taken yet. Each item says who is on it and who acknowledged it
last, and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from db.reminders import DueReminder, WorklistFilter, reminder_of
from journey.explain import due_in_words
from journey.reminders import ReminderStatus, status_on
from tracker.application.context import Context


@dataclass
class WorklistItem:
    reminder_id: int
    ref: str
    care_team: str
    phase: str
    kind: str
    due_on: date
    status: ReminderStatus
    days_late: int
    #: who is on it (a user name), and who acknowledged it last (an actor) and when
    assignee: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    #: the due date in words: 'due today', '12 days overdue', 'due in 3 days'
    timing: str = ""
    #: the worklist section it stands in (SECTION_TITLES)
    section: str = ""


#: the sections in the order a navigator works them, with their headings
SECTION_TITLES = {"overdue": "Overdue", "today": "Due today", "grace": "Within grace",
                  "week": "Due this week"}


@dataclass
class Section:
    name: str
    title: str
    #: the due days it holds (both included)
    first_day: date
    last_day: date
    #: how many reminders it holds (with the filters), however many are shown
    count: int
    items: list[WorklistItem]


@dataclass
class Worklist:
    as_of: date
    ahead_days: int
    sections: list[Section]

    @property
    def total(self) -> int:
        return sum(s.count for s in self.sections)

    def section(self, name: str) -> Section:
        return next(s for s in self.sections if s.name == name)


def section_of(due_on: date, day: date, grace_days: int) -> str:
    if due_on > day:
        return "week"
    if due_on == day:
        return "today"
    return "grace" if due_on >= day - timedelta(days=grace_days) else "overdue"


def _item(ctx: Context, d: DueReminder, day: date) -> WorklistItem:
    r = d.reminder
    status = status_on(reminder_of(r), day, ctx.pathway)
    return WorklistItem(r.id, d.ref, d.care_team, d.phase, r.kind, r.due_on, status, (day - r.due_on).days,
                        r.assignee, r.acknowledged_by, r.acknowledged_at,
                        due_in_words(r.due_on, status, day, ctx.pathway),
                        section_of(r.due_on, day, ctx.pathway.reminder_grace_days))


def worklist(ctx: Context, as_of: date | None = None, limit: int | None = 50, kind: str | None = None,
             team: str | None = None) -> list[WorklistItem]:
    """Every due and overdue reminder across patients, most urgent (longest waiting) first."""
    day = as_of or ctx.clock.today()
    with ctx.reading() as uow:
        due = uow.reminders.due(day, limit=limit, kind=kind, team=team)
    return [_item(ctx, d, day) for d in due]


def worklist_sections(ctx: Context, as_of: date | None = None, *, kind: str | None = None,
                      team: str | None = None, assignee: str | None = None, untaken: bool = False,
                      limit: int | None = 100, only: str | None = None) -> Worklist:
    """The worklist in its sections, each with its count and up to ``limit`` items (``only``: fill
    just that section; the others keep their counts)."""
    day = as_of or ctx.clock.today()
    grace, ahead = ctx.pathway.reminder_grace_days, ctx.settings.worklist_ahead_days
    ranges = {"overdue": (date.min, day - timedelta(days=grace + 1)),
              "today": (day, day),
              "grace": (day - timedelta(days=grace), day - timedelta(days=1)),
              "week": (day + timedelta(days=1), day + timedelta(days=ahead))}
    if ahead == 0:
        del ranges["week"]
    through = day + timedelta(days=ahead)
    chosen = WorklistFilter(kind, team, assignee, untaken)
    sections = []
    with ctx.reading() as uow:
        per_day = uow.reminders.due_days(day, through, chosen)
        for name, (first, last) in ranges.items():
            count = sum(n for due_on, n in per_day.items() if first <= due_on <= last)
            rows = (uow.reminders.due(day, limit, through=through, due_between=(first, last), only=chosen)
                    if count and (only is None or only == name) else [])
            sections.append(Section(name, SECTION_TITLES[name], first, last, count,
                                    [_item(ctx, d, day) for d in rows]))
    return Worklist(day, ahead, sections)
