"""The one error hierarchy of the tracker.

Every error says what was wrong and what to do, in words a nurse understands. Entry points map
the classes once: to CLI exit codes in ``tracker.cli`` and to HTTP statuses in ``tracker.web``.

    JourneyError
     ├── EntryRefused            an entry was refused; nothing was written
     │    ├── ImpossibleEntry    it cannot be true (bad value, future date, after death); no override helps
     │    └── OffPathway         the pathway has no such step from the current phase; an override records it
     ├── InvalidScenario         a scenario or patient file cannot be read or does not match the format
     ├── NotFound                no such patient, reminder or user
     ├── Conflict                someone else changed the record first, or it already exists
     │    └── ConcurrentUpdate   the patient's version moved on since it was read
     ├── NotSignedIn             (tracker.users) no valid session or token            -> 401
     └── AccessDenied            (tracker.users) the role does not allow it           -> 403

CLI exit codes: 2 refused or unreadable, 3 not found, 4 conflict. HTTP: 422 refused, 400
unreadable, 404, 409, 401, 403.
"""

from __future__ import annotations


class JourneyError(Exception):
    """Base of every error the tracker raises on purpose."""

    code = "journey-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EntryRefused(JourneyError):
    """An entry was refused and nothing was written."""

    code = "entry-refused"


class ImpossibleEntry(EntryRefused):
    """The entry cannot be true; no override makes it true."""

    code = "impossible-entry"


class OffPathway(EntryRefused):
    """The pathway has no such step from the current phase; an override can record it anyway."""

    code = "off-pathway"


class InvalidScenario(JourneyError):
    """A scenario or patient description that cannot be read or does not match the format."""

    code = "invalid-scenario"


class NotFound(JourneyError):
    code = "not-found"


class Conflict(JourneyError):
    code = "conflict"


class ConcurrentUpdate(Conflict):
    code = "concurrent-update"
