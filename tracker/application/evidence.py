"""Checkpoints: signed statements of every patient's log, kept outside the database, and the
proof that the database extends them (``journey checkpoint``, ``journey verify --checkpoints``).

Taking a checkpoint reads each patient's log length and head from the patient rows; for the
patients whose log moved since the last checkpoint it recomputes the chain from the stored
entries' content (db.patients.chain_of) and witnesses the new links only if the log still
extends what was witnessed. A patient whose log no longer does keeps the last witness (carried
forward, and named as a problem): one tampered patient cannot stop the others being witnessed,
and cannot get its altered log signed. The statement, its Merkle tree and the files are
tracker.evidence's (pure); the key comes from the settings, never from the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from db.outbox import notice_rows
from db.patients import GENESIS, LogHead, chain_of
from db.records import EntryRecord
from journey.errors import JourneyError
from tracker.application.context import Context
from tracker.evidence.checkpoints import (
    Checkpoint,
    CheckpointProblem,
    CheckpointStore,
    Difference,
    Leaf,
    Witness,
    check_proof,
    make_checkpoint,
    read_witness,
)
from tracker.evidence.signing import KeyProblem, Keyring, Signer, generate, load_keyring, load_signer

log = logging.getLogger("journey.evidence")

#: patients whose logs are read at once when a checkpoint recomputes their chains
BATCH = 500


class EvidenceUnavailable(JourneyError):
    """A checkpoint cannot be taken or read: no store or key configured, a key that cannot be
    read, a store that cannot be trusted. The message says which and what to do."""

    code = "evidence-unavailable"


@dataclass
class CheckpointReport:
    """What ``journey checkpoint`` did."""

    sequence: int | None
    file: Path | None
    patients: int = 0
    entries: int = 0
    #: entries witnessed for the first time by this checkpoint
    new_entries: int = 0
    #: patients whose log no longer extends the last checkpoint (their old witness carried)
    problems: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        if self.sequence is None:
            return "Nothing new to witness since the last checkpoint; none written."
        return (f"Checkpoint {self.sequence} written to {self.file}: {self.patients} patient(s), "
                f"{self.entries} entries, {self.new_entries} of them witnessed for the first time.")


# -- keys and the store -------------------------------------------------------------------------------

def generate_keys(private_file: Path, public_file: Path) -> str:
    """A new signing key pair (``journey checkpoint keygen``); the key's id."""
    try:
        return generate(private_file, public_file)
    except KeyProblem as e:
        raise EvidenceUnavailable(str(e)) from None


def signer(ctx: Context) -> Signer:
    if ctx.settings.checkpoint_key is None:
        raise EvidenceUnavailable("No checkpoint signing key is configured: set JOURNEY_CHECKPOINT_KEY to "
                                  "the private key file (make one with `journey checkpoint keygen`).")
    try:
        return load_signer(ctx.settings.checkpoint_key)
    except KeyProblem as e:
        raise EvidenceUnavailable(str(e)) from None


def _store(ctx: Context, path: Path | None = None) -> CheckpointStore:
    path = path or ctx.settings.checkpoint_path
    if path is None:
        raise EvidenceUnavailable("No checkpoint directory is configured: set JOURNEY_CHECKPOINT_PATH "
                                  "(a directory outside the database's reach).")
    return CheckpointStore(path)


def keyring(ctx: Context, public_keys: list[Path] | None = None) -> Keyring:
    """The trusted public keys: those given, else JOURNEY_CHECKPOINT_PUBLIC_KEYS."""
    configured = ctx.settings.checkpoint_public_keys
    files = public_keys or ([configured] if configured else [])
    if not files:
        raise EvidenceUnavailable("No public key to verify the checkpoints with: give --public-key FILE "
                                  "or set JOURNEY_CHECKPOINT_PUBLIC_KEYS.")
    try:
        return load_keyring(*files)
    except KeyProblem as e:
        raise EvidenceUnavailable(str(e)) from None


def witness(ctx: Context, path: Path | None = None, public_keys: list[Path] | None = None) -> Witness:
    """What the checkpoints in the store witnessed, each checked against the trusted keys."""
    store = _store(ctx, path)
    if not store.files():
        raise EvidenceUnavailable(f"There are no checkpoints in {store.path}.")
    return read_witness(store, keyring(ctx, public_keys))


def configured_witness(ctx: Context) -> Witness | None:
    """The configured store's witness, when a store, a public key and checkpoints exist; else
    None (checkpoints are optional)."""
    s = ctx.settings
    if s.checkpoint_path is None or not CheckpointStore(s.checkpoint_path).files():
        return None
    trusted = keyring(ctx) if s.checkpoint_public_keys else Keyring([signer(ctx).public])
    return read_witness(CheckpointStore(s.checkpoint_path), trusted)


# -- taking a checkpoint ------------------------------------------------------------------------------

def take_checkpoint(ctx: Context, *, accept_rollback: Witness | None = None,
                    note: str = "") -> CheckpointReport:
    """Witness every patient's log in a new signed checkpoint, appended to the store. None is
    written when nothing changed since the last one. ``accept_rollback`` (the witness a restore
    read) lets logs that are a prefix of what was witnessed, or gone, be witnessed as they now
    are: the operator accepted giving up the rest."""
    key, store = signer(ctx), _store(ctx)
    trusted = (keyring(ctx) if ctx.settings.checkpoint_public_keys else Keyring()).with_key(key.public)
    try:
        last = store.last()
    except CheckpointProblem as e:
        raise EvidenceUnavailable(f"{e} Nothing was signed.") from None
    if last is not None:
        why = last.problem(trusted)
        if why:
            raise EvidenceUnavailable(f"The last checkpoint in {store.path}: {why}. Nothing was signed; "
                                      f"find out what happened to the store before taking another.")
    before = {leaf.ref: leaf for leaf in last.leaves} if last else {}
    report = CheckpointReport(None, None)
    with ctx.unit_of_work() as uow:
        heads = uow.patients.heads()
        moved = [h for h in heads if h.ref not in before or (before[h.ref].length, before[h.ref].head) !=
                 (h.length, h.head)]
        still = {h.ref for h in heads} - {h.ref for h in moved}
        leaves = [before[ref].carried() for ref in still]
        for start in range(0, len(moved), BATCH):
            batch = moved[start:start + BATCH]
            logs = uow.patients.logs_of([h.patient_id for h in batch])
            for head in batch:
                leaf, problem = _witness_one(head, logs[head.patient_id], before.get(head.ref),
                                             accept_rollback)
                if leaf is not None:
                    report.new_entries += leaf.length - leaf.links_from
                    leaves.append(leaf)
                if problem:
                    report.problems.append(problem)
    present = {h.ref for h in heads}
    for ref, leaf in before.items():
        if ref not in present and accept_rollback is None:
            leaves.append(leaf.carried())
            report.problems.append(f"{ref}: witnessed by {last.name if last else 'a checkpoint'} with "
                                   f"{leaf.length} entries, but no longer in the database.")
    for problem in report.problems:
        log.error("checkpoint: %s", problem)
    if last is not None and {leaf.ref: leaf for leaf in leaves} == \
            {ref: leaf.carried() for ref, leaf in before.items()}:
        return report  # nothing new: the last checkpoint still says it all
    checkpoint = make_checkpoint(
        key, leaves, sequence=(last.sequence + 1) if last else 1,
        issued_at=ctx.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        previous=last.statement.digest() if last else None,
        rollback_of=last.sequence if accept_rollback is not None and last else None, note=note)
    try:
        report.file = store.append(checkpoint)
    except (CheckpointProblem, OSError) as e:
        raise EvidenceUnavailable(f"The checkpoint could not be written: {e}") from None
    report.sequence, report.patients = checkpoint.sequence, checkpoint.statement.patients
    report.entries = checkpoint.statement.entries
    if ctx.settings.checkpoint_witness and ctx.settings.webhook_url:
        _send_to_witness(ctx, checkpoint, key)
    return report


def _witness_one(head: LogHead, entries: list[EntryRecord], before: Leaf | None,
                 rollback: Witness | None) -> tuple[Leaf | None, str | None]:
    """The leaf of one patient whose log moved, and what is wrong with it (if anything)."""
    chain = chain_of(entries)
    if len(chain) > head.length and (head.length == 0 or chain[head.length - 1] == head.head):
        # recorded between reading the heads and the logs (a server database reads each statement
        # at its own moment): the head read first is witnessed, the rest by the next checkpoint
        chain = chain[:head.length]
    end = chain[-1] if chain else GENESIS
    if (len(chain), end) != (head.length, head.head):
        return (before.carried() if before else None,
                f"{head.ref}: its stored entries do not lead to the head on its patient row; not "
                f"witnessed (`journey verify` says where the log was changed).")
    if before is None:
        return Leaf(head.ref, len(chain), end, 0, tuple(chain)), None
    at = chain[before.length - 1] if 0 < before.length <= len(chain) else GENESIS
    if len(chain) >= before.length and at == before.head:
        return Leaf(head.ref, len(chain), end, before.length, tuple(chain[before.length:])), None
    if rollback is not None and len(chain) < before.length:
        known = rollback.patients[head.ref].links.get(len(chain)) if head.ref in rollback.patients else None
        if known in (None, end) or not chain:
            return Leaf(head.ref, len(chain), end, len(chain)), None
    return before.carried(), (f"{head.ref}: its log no longer extends what the last checkpoint witnessed "
                              f"({before.length} entries); the old witness is kept. Run `journey verify "
                              f"--checkpoints` to see the first entry that differs.")


def _send_to_witness(ctx: Context, checkpoint: Checkpoint, signer: Signer) -> None:
    """Queue the signed statement (not the leaves: they name patients) for the webhook."""
    payload = {"type": "checkpoint", **checkpoint.envelope(), "key_id": signer.key_id}
    rows = notice_rows(kind="checkpoint", key=f"c{checkpoint.sequence}-{checkpoint.statement.root[:16]}",
                       status="checkpoint", payload=payload, channels=["webhook"], now=ctx.clock.now())
    with ctx.unit_of_work() as uow:
        uow.outbox.queue(rows)
        uow.commit()


def proof(ctx: Context, ref: str, path: Path | None = None) -> dict[str, object]:
    """One patient's inclusion proof in the last checkpoint of the store."""
    store = _store(ctx, path)
    try:
        last = store.last()
    except CheckpointProblem as e:
        raise EvidenceUnavailable(str(e)) from None
    if last is None:
        raise EvidenceUnavailable(f"There are no checkpoints in {store.path}.")
    try:
        return last.proof(ref)
    except KeyError:
        raise EvidenceUnavailable(f"{last.name} does not witness a patient {ref!r}.") from None


def check_patient_proof(ctx: Context, given: dict[str, object],
                        public_keys: list[Path] | None = None) -> str | None:
    """Why one patient's proof (:func:`proof`) does not hold under the trusted keys; None when
    it does. No database is read: the proof and the public key are all it takes."""
    try:
        return check_proof(given, keyring(ctx, public_keys))
    except (KeyError, TypeError, ValueError) as e:
        raise EvidenceUnavailable(f"This is not a proof written by `journey checkpoint proof` "
                                  f"({type(e).__name__}: {e}).") from None


# -- comparing the database with what was witnessed ---------------------------------------------------

def difference_sentence(found: Difference, entries: list[EntryRecord]) -> str:
    """One line: the patient, the checkpoint, and the first entry that differs."""
    def entry(position: int) -> str:
        e = entries[position - 1] if position <= len(entries) else None
        return f"entry {position}" + (f" ({e.type} of {e.date})" if e else "")

    where = entry(found.first) if found.first == found.last else \
        f"one of entries {found.first} to {found.last} (no checkpoint witnessed each of them)"
    if found.missing:
        return (f"{found.ref}: {found.checkpoint} witnessed {found.witnessed_length} entries but the "
                f"database holds {found.stored_length}: entries were removed; the first that differs "
                f"is {where}.")
    return (f"{found.ref}: {where} differs from what {found.checkpoint} witnessed: it was changed, "
            f"removed or reordered after the checkpoint, whatever hashes were recomputed.")
