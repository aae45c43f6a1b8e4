"""Backups and restores of the configured database (``journey backup FILE``, ``journey restore
FILE``). The files are made and read by db.backup; a restored database is migrated to the current
schema and verified (hash chains, phases, reminders, and the checkpoints when they are kept)
before it is reported as restored.

A restore sends nothing twice: the live database's deliveries are read before it is replaced and
carried into the restored one (db.outbox.carry_deliveries), so its sweep does not announce again
what was delivered after the backup. And a restore that would give up entries the checkpoints
witnessed says so and is refused unless the operator accepts the rollback, which a new signed
checkpoint then records (tracker.application.evidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from db import backup as backups
from db.migrate import upgrade
from db.outbox import deliveries
from db.patients import GENESIS
from journey.errors import Conflict, InvalidScenario
from tracker.application.context import Context
from tracker.application.evidence import configured_witness, signer, take_checkpoint
from tracker.application.verify import verify
from tracker.evidence.checkpoints import Witness


@dataclass
class RestoreReport:
    patients: int
    events: int
    problems: list[str] = field(default_factory=list)
    #: deliveries of the live database carried into the restored one (never sent again)
    deliveries: int = 0
    #: witnessed entries given up (accepted with --accept-rollback), one line per patient
    rolled_back: list[str] = field(default_factory=list)
    #: the checkpoint that recorded the accepted rollback
    checkpoint: int | None = None


def backup(ctx: Context, destination: Path, overwrite: bool = False) -> int:
    """Write a backup of the database to ``destination`` while it runs; its size in bytes."""
    return backups.backup(ctx.settings.database_url, destination, overwrite=overwrite)


def restore(ctx: Context, source: Path, replace: bool = False,
            accept_rollback: bool = False) -> RestoreReport:
    """Replace the database's content by a backup, migrate it and verify it. Refuses a database
    that holds patients unless ``replace``, and a backup that lacks witnessed entries unless
    ``accept_rollback``."""
    url = ctx.settings.database_url
    witnessed = configured_witness(ctx)
    rolled_back: list[str] = []
    if witnessed is not None:
        rolled_back = _rolled_back(witnessed, backups.logs_in_backup(url, source))
        if rolled_back and not accept_rollback:
            raise Conflict(f"{source.name} lacks entries that the checkpoints witnessed; restoring it "
                           f"gives them up ({'; '.join(rolled_back[:5])}"
                           f"{'; ...' if len(rolled_back) > 5 else ''}). Run again with --accept-rollback if "
                           f"that is what you want: a new checkpoint will record it.")
        if rolled_back:
            signer(ctx)  # the rollback is recorded by a signed checkpoint: the key must be at hand now
    delivered = deliveries(ctx.engine) if backups.holds_database(url) else []
    ctx.engine.dispose()  # no pooled connection holds the database while it is replaced
    backups.restore(url, source, replace=replace)
    upgrade(ctx.engine)  # an older backup gets today's schema
    with ctx.unit_of_work() as uow:
        uow.outbox.carry(delivered)
        uow.commit()
    report = RestoreReport(0, 0, deliveries=len(delivered), rolled_back=rolled_back)
    if rolled_back and witnessed is not None:
        report.checkpoint = take_checkpoint(ctx, accept_rollback=witnessed,
                                            note=f"restore of {source.name}").sequence
    after = configured_witness(ctx)
    report.problems = [*(after.problems if after else []), *verify(ctx, after)]
    with ctx.unit_of_work() as uow:
        report.patients, report.events = uow.patients.count(), uow.patients.entry_count()
    return report


def _rolled_back(witnessed: Witness, logs: dict[str, tuple[int, str]]) -> list[str]:
    """The witnessed entries a backup lacks, one line per patient; a backup whose log differs
    from what was witnessed (not merely shorter) is refused outright."""
    lacking, differing = [], []
    for ref, patient in sorted(witnessed.patients.items()):
        length, head = logs.get(ref, (0, GENESIS))
        if length < patient.length:
            lacking.append(f"{ref}: entries {length + 1} to {patient.length}, witnessed by "
                           f"{patient.by(length + 1)}")
        if 0 < length <= patient.length and patient.links.get(length) not in (None, head):
            differing.append(f"{ref} at entry {length} ({patient.by(length)})")
    if differing:
        raise InvalidScenario(f"The backup's logs differ from what the checkpoints witnessed "
                              f"({'; '.join(differing[:5])}): it was altered, or it is a backup of "
                              f"another database. Nothing was restored.")
    return lacking
