"""Calendar arithmetic: months are calendar months, month ends clamp (Dec 31 + 2 months = Feb 28/29)."""

from __future__ import annotations

from datetime import date, datetime

from dateutil.relativedelta import relativedelta


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; the 31st becomes the last day of a shorter month."""
    return day + relativedelta(months=months)


def parse_clinical_date(value: object, what: str) -> date:
    """A clinical date from a scenario or form value (a date or ``YYYY-MM-DD``)."""
    from journey.errors import ImpossibleEntry

    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ImpossibleEntry(f"{what} must be a date written as YYYY-MM-DD, not {_shown(value)}.")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
