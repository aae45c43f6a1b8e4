"""What every use case is handed: the database, the clock and the settings, each built once at
the composition root (tracker.compose) and passed down, never made again below it."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Self

from db.engine import Engine
from db.unit_of_work import UnitOfWork
from journey.settings import PathwaySettings
from tracker.clock import Clock
from tracker.settings import Settings


@dataclass(frozen=True)
class AccessLine:
    """One line of the access log: who did what to which patient, through which channel (the
    pages, the API, the CLI) and from which client address."""

    user: str
    action: str
    patient_ref: str | None = None
    detail: str = ""
    channel: str = "cli"
    client: str = ""

    def append_to(self, uow: UnitOfWork, clock: Clock) -> None:
        uow.access_log.append(at=clock.now(), user=self.user, action=self.action,
                              patient_ref=self.patient_ref, detail=self.detail, channel=self.channel,
                              client=self.client)


class Context:
    """The database (its engine: the use cases only open units of work on it), the clock (the
    site's today and the UTC now) and the settings (the clinical ones as ``pathway``)."""

    def __init__(self, engine: Engine, clock: Clock, settings: Settings) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.pathway: PathwaySettings = settings.pathway()
        self._witness: AccessLine | None = None

    def unit_of_work(self) -> UnitOfWork:
        """One transaction (``with ctx.unit_of_work() as uow: ...; uow.commit()``)."""
        return UnitOfWork(self.engine, before_commit=self._write_witness if self._witness else None)

    def reading(self) -> UnitOfWork:
        """One transaction that only reads (``with ctx.reading() as uow: ...``): on SQLite a
        snapshot that takes no lock, so it neither waits for a writer nor makes one wait."""
        return UnitOfWork(self.engine, read_only=True)

    def witnessed(self, line: AccessLine) -> Self:
        """This context for one write whose access-log line is written in the write's own
        transaction, as its last row: the write is kept with its line or not at all (a write
        refused or rolled back leaves no line; a line cannot be lost after a kept write). Written
        once, by the first transaction committed."""
        other = copy.copy(self)
        other._witness = line
        return other

    def _write_witness(self, uow: UnitOfWork) -> None:
        if self._witness is not None:
            line, self._witness = self._witness, None
            line.append_to(uow, self.clock)
