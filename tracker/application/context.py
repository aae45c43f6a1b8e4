"""What every use case is handed: the database, the clock and the settings, each built once at
the composition root (tracker.compose) and passed down, never made again below it."""

from __future__ import annotations

from db.engine import Engine
from db.unit_of_work import UnitOfWork
from journey.settings import PathwaySettings
from tracker.clock import Clock
from tracker.settings import Settings


class Context:
    """The database (its engine: the use cases only open units of work on it), the clock (the
    site's today and the UTC now) and the settings (the clinical ones as ``pathway``)."""

    def __init__(self, engine: Engine, clock: Clock, settings: Settings) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.pathway: PathwaySettings = settings.pathway()

    def unit_of_work(self) -> UnitOfWork:
        """One transaction (``with ctx.unit_of_work() as uow: ...; uow.commit()``)."""
        return UnitOfWork(self.engine)

    def reading(self) -> UnitOfWork:
        """One transaction that only reads (``with ctx.reading() as uow: ...``): on SQLite a
        snapshot that takes no lock, so it neither waits for a writer nor makes one wait."""
        return UnitOfWork(self.engine, read_only=True)
