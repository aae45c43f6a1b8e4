"""Proving the stored state: what is stored equals what the event log implies (``journey
verify``): every hash link, the log's head, no refused entry in the log, the phase, the reminders;
and, given the checkpoints (``journey verify --checkpoints``), that every log extends what they
witnessed, its links recomputed from the entries' content."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from db.patients import GENESIS, StoredJourney, chain_of, content_hash, link_of
from db.reminders import implied_key, reminder_of, stored_key
from db.unit_of_work import UnitOfWork
from journey.course import PATHWAY_VERSION, follow_journey
from journey.reminders import Reminder
from tracker.application.context import Context
from tracker.application.evidence import difference_sentence, witness
from tracker.evidence.checkpoints import Witness


@dataclass
class Verification:
    """What ``journey verify --checkpoints`` found: ``problems`` (exit 1) and ``notes`` (what no
    checkpoint has witnessed yet, rollbacks the operator accepted)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify(ctx: Context, witnessed: Witness | None = None) -> Iterator[str]:
    """Differences between what is stored and what the event log implies (none when sound); with
    ``witnessed``, also every log that does not extend what the checkpoints witnessed, and every
    witnessed patient missing from the database."""
    seen: set[str] = set()
    with ctx.unit_of_work() as uow:
        for stored in uow.patients.stream(keep_unreadable=True):
            seen.add(stored.row.ref)
            yield from _verify_one(ctx, uow, stored)
            if witnessed is not None:
                found = witnessed.compare(stored.row.ref, chain_of(stored.event_rows))
                if found is not None:
                    yield difference_sentence(found, stored.event_rows)
    if witnessed is not None:
        for ref, patient in sorted(witnessed.patients.items()):
            if ref not in seen and patient.length:
                yield (f"{ref}: {patient.by(1)} witnessed {patient.length} entries of this patient, who "
                       f"is no longer in the database (entry 1 and all after it were removed).")


def verify_with_checkpoints(ctx: Context, path: Path, public_keys: list[Path] | None = None) -> Verification:
    """``journey verify --checkpoints PATH``: the stored state, and the database against every
    checkpoint in PATH (checked with the trusted public keys only)."""
    witnessed = witness(ctx, path, public_keys)
    result = Verification(problems=list(witnessed.problems), notes=list(witnessed.notes))
    result.problems += verify(ctx, witnessed)
    unwitnessed, patients = 0, 0
    with ctx.unit_of_work() as uow:
        for head in uow.patients.heads():
            later = witnessed.unwitnessed(head.ref, head.length)
            if later > 0:
                unwitnessed, patients = unwitnessed + later, patients + 1
    last = witnessed.last
    if last is not None:
        result.notes.append(f"{len(witnessed.checkpoints)} checkpoint(s) read, the last {last.name}.")
    if unwitnessed:
        result.notes.append(f"{unwitnessed} entries of {patients} patient(s) were recorded after the last "
                            f"checkpoint: not yet witnessed (a checkpoint will cover them).")
    return result


def _verify_one(ctx: Context, uow: UnitOfWork, stored: StoredJourney) -> Iterator[str]:
    ref, row = stored.row.ref, stored.row
    for problem in stored.unreadable:
        yield f"{ref}: {problem}"
    previous = GENESIS
    for position, entry in enumerate(stored.event_rows, start=1):
        if link_of(previous, entry) != entry.chain_hash:
            yield (f"{ref}: event {position} ({entry.type} of {entry.date}) does not match its hash "
                   f"link: it was edited, or an event before it was removed or reordered.")
            break
        if content_hash(entry.payload) != entry.content_hash:
            yield f"{ref}: event {position} ({entry.type}) content was altered."
        previous = entry.chain_hash
    else:
        if (previous, len(stored.event_rows)) != (row.log_head, row.log_length):
            yield (f"{ref}: the log ends at event {len(stored.event_rows)} but {row.log_length} "
                   f"were recorded: an event at the end was removed or its link replaced.")
    outcome = follow_journey(stored.profile, stored.events, row.phase_on, ctx.pathway, remember=True)
    for refusal in outcome.refusals:
        yield f"{ref}: the recorded entry {refusal.seq} is refused on replay: {refusal.reason}"
    if outcome.phase.value != row.phase:
        yield (f"{ref}: stored phase {row.phase!r} but the log implies {outcome.phase.value!r} "
               f"on {row.phase_on}.")
    kept = uow.patients.stored_memory(row.id)
    if kept is not None and kept[:2] == (PATHWAY_VERSION, len(stored.event_rows)) \
            and kept[2] != outcome.memory:
        yield (f"{ref}: what the tracker remembers of the journey (to record the next entry "
               f"without reading the log) differs from what the log implies; it is rebuilt from "
               f"the log by the next backdated entry or re-derivation.")
    if row.derived_with != PATHWAY_VERSION:
        yield (f"{ref}: derived under other rules ({row.derived_with or 'before 2026.12'}); start "
               f"the tracker once to re-derive it from the log.")
    implied = {implied_key(r): r for r in outcome.reminders}
    for stored_reminder in uow.reminders.of_patient(row.id):
        want = implied.pop(stored_key(stored_reminder), None)
        what = f"reminder {stored_reminder.kind} of {stored_reminder.anchor_on}"
        if want is None:
            if not stored_reminder.closed:
                yield f"{ref}: the open {what} is not implied by the log."
            continue
        got = reminder_of(stored_reminder)
        if got != want:
            yield (f"{ref}: {what} is stored as {_dates(got, row.phase_on)}; the log "
                   f"implies {_dates(want, row.phase_on)}.")
    for want in implied.values():
        yield f"{ref}: reminder {want.kind.value} of {want.anchor_on} is implied by the log but not stored."


def _dates(reminder: Reminder, day: date) -> str:
    closed = (f", resolved {reminder.resolved_on}" if reminder.resolved_on else "") + \
        (f", cancelled {reminder.cancelled_on}" if reminder.cancelled_on else "")
    return f"due {reminder.due_on_at(day)}{closed or ', open'}"
