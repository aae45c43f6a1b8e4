"""Calendar arithmetic: months are calendar months, month ends clamp (Dec 31 + 2 months = Feb 28/29)."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from dateutil.relativedelta import relativedelta

#: the shape of a written date; a value of this shape that fails to parse is off the calendar
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@lru_cache(maxsize=65536)
def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months; the 31st becomes the last day of a shorter month.
    (Remembered: a cohort's journeys ask the same few thousand days over and over.)"""
    result: date = day + relativedelta(months=months)
    return result


def parse_clinical_date(value: object, what: str, field: str | None = None) -> date:
    """A clinical date from a scenario or form value (a date or ``YYYY-MM-DD``); a refusal names
    ``field`` (the file's key) beside the words, so the line to mend can be found."""
    from journey.errors import ImpossibleEntry

    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text)
        except ValueError:
            if _ISO_DATE.fullmatch(text):  # 2025-02-30: the shape of a date, but no such day
                given = f"{field}: {shown(text)}" if field else shown(text)
                raise ImpossibleEntry(f"{what} ({given}) is not a date on the calendar.") from None
    named = f" ({field})" if field else ""
    raise ImpossibleEntry(f"{what}{named} must be a date written as YYYY-MM-DD, not {shown(value)}.")


def safe_str(value: object) -> str:
    """``str(value)``, except for an integer too long to convert (more than 4,300 digits)."""
    try:
        return str(value)
    except ValueError:
        return "a number thousands of digits long"


def shown(value: object) -> str:
    """A typed value as a person would write it, quoted and cut short: '2025-02-01', 'FOLFOX'."""
    if isinstance(value, date | datetime):
        text = value.isoformat()[:10]
    elif isinstance(value, list | tuple | set):
        text = ", ".join(shown(v).strip("'") for v in value)
    elif value is None:
        text = "nothing"
        return text
    else:
        text = safe_str(value)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"'{text}'"


MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def in_words(day: date) -> str:
    """A day as people write it, whatever the machine's locale: '1 Apr 2025'."""
    return f"{day.day} {MONTH_ABBREVIATIONS[day.month - 1]} {day.year}"


def days_in_words(days: int) -> str:
    """'1 day', '12 days'."""
    return f"{days} day" + ("" if days == 1 else "s")
