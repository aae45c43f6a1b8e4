"""Checkpoints: what they say, how they are kept, and what a series of them witnessed.

A checkpoint is a signed statement about every patient's event log at one moment: for each
patient (a *leaf*) the log's length and head (the hash link of its last entry), and the links of
the entries added since the checkpoint before it; the leaves, sorted by patient reference, are
rolled into one Merkle root (tracker.evidence.merkle), and the statement (sequence, time,
counts, root, the digest of the checkpoint before it, the key's id) is signed with Ed25519
(tracker.evidence.signing).

The links are the project's own chain hashes (db.patients.chain_hash), which bind each entry's
content to the link before it. Whoever holds the database can edit an entry and recompute every
hash after it, but cannot make the head at a witnessed length come out as the signed one: the
verifier recomputes the chain from the stored entries' content and compares it, position by
position, with what the checkpoints witnessed.

**Files.** A checkpoint store is a directory; each checkpoint is one file
``checkpoint-<sequence, 8 digits>.jsonl``, written beside under a temporary name, flushed and
renamed (never half-written under its name). Its first line is the envelope
``{"statement": {...}, "signature": "<base64>"}``; each further line is one leaf
``{"ref", "length", "head", "links_from", "links"}``, sorted by ``ref``; ``links`` are the
hex links of entries ``links_from + 1 .. length``. A single checkpoint file is also accepted
wherever a store is.
"""

from __future__ import annotations

import hashlib
import json
import os
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tracker.evidence.merkle import inclusion_proof, leaf_hash, root_from_proof, root_of
from tracker.evidence.signing import Keyring, Signer

FORMAT = "crlm-journey-checkpoint/1"
#: signed bytes start with this, so a checkpoint signature can never be taken for another message
DOMAIN = b"crlm-journey checkpoint v1\n"
FILE_PATTERN = "checkpoint-*.jsonl"
#: the link before a log's first entry (db.patients.GENESIS)
EMPTY_HEAD = "0" * 64


class CheckpointProblem(Exception):
    """A checkpoint file that cannot be read or trusted; the message says which and why."""


def canonical(value: Any) -> bytes:
    """The one byte form that is hashed and signed: sorted keys, no spaces, ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True)
class Leaf:
    """One patient in one checkpoint."""

    ref: str
    #: how many entries the log holds, and the link of the last one (EMPTY_HEAD for none)
    length: int
    head: str
    #: the links of entries links_from + 1 .. length (those added since the checkpoint before)
    links_from: int
    links: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "length": self.length, "head": self.head,
                "links_from": self.links_from, "links": list(self.links)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Leaf:
        return cls(str(data["ref"]), int(data["length"]), str(data["head"]), int(data["links_from"]),
                   tuple(str(link) for link in data["links"]))

    def hash(self) -> bytes:
        return leaf_hash(canonical(self.to_dict()))

    def carried(self) -> Leaf:
        """The same witness again, with no new links (nothing new seen for this patient)."""
        return Leaf(self.ref, self.length, self.head, self.length)

    def inconsistency(self) -> str | None:
        if self.links_from < 0 or self.length - self.links_from != len(self.links):
            return f"leaf {self.ref} says {self.length} entries with links from {self.links_from} " \
                   f"but carries {len(self.links)} link(s)"
        if self.links and self.links[-1] != self.head:
            return f"leaf {self.ref}: its head is not its last link"
        if self.length == 0 and self.head != EMPTY_HEAD:
            return f"leaf {self.ref}: an empty log with a head"
        return None


@dataclass(frozen=True)
class Statement:
    """What is signed."""

    sequence: int
    #: when it was taken (UTC, ISO 8601)
    issued_at: str
    patients: int
    entries: int
    #: the Merkle root of the leaves (hex)
    root: str
    #: the digest of the checkpoint before it in the store (hex), None for the first
    previous: str | None
    #: the id of the signing key
    key: str
    #: a rollback accepted by the operator (a restore): the checkpoint it gives entries of up
    rollback_of: int | None = None
    note: str = ""
    format: str = FORMAT

    def message(self) -> bytes:
        return DOMAIN + canonical(asdict(self))

    def digest(self) -> str:
        return hashlib.sha256(self.message()).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    statement: Statement
    signature: str
    leaves: tuple[Leaf, ...]

    @property
    def sequence(self) -> int:
        return self.statement.sequence

    @property
    def name(self) -> str:
        return f"checkpoint {self.statement.sequence} ({self.statement.issued_at})"

    def envelope(self) -> dict[str, Any]:
        return {"statement": asdict(self.statement), "signature": self.signature}

    def problem(self, keyring: Keyring) -> str | None:
        """Why this checkpoint cannot be trusted (None when it can): its signature under the
        trusted keys, its root over its leaves, its counts and its leaves' order."""
        why = keyring.verify(self.statement.key, self.statement.message(), self.signature)
        if why:
            return f"{self.name} cannot be trusted: {why}"
        if self.statement.format != FORMAT:
            return f"{self.name} is of an unknown format {self.statement.format!r}"
        refs = [leaf.ref for leaf in self.leaves]
        if refs != sorted(refs) or len(set(refs)) != len(refs):
            return f"{self.name}: its leaves are not in order (altered after signing)"
        for leaf in self.leaves:
            why = leaf.inconsistency()
            if why:
                return f"{self.name}: {why}"
        if root_of([leaf.hash() for leaf in self.leaves]).hex() != self.statement.root \
                or len(self.leaves) != self.statement.patients \
                or sum(leaf.length for leaf in self.leaves) != self.statement.entries:
            return f"{self.name}: its leaves do not give its signed root and counts (altered after signing)"
        return None

    def proof(self, ref: str) -> dict[str, Any]:
        """One patient's inclusion proof: the leaf, its index, the audit path and the signed
        statement: enough, with the public key, to check this patient's witness alone."""
        index = next((i for i, leaf in enumerate(self.leaves) if leaf.ref == ref), None)
        if index is None:
            raise KeyError(ref)
        path = inclusion_proof([leaf.hash() for leaf in self.leaves], index)
        return {**self.envelope(), "leaf": self.leaves[index].to_dict(), "index": index,
                "size": len(self.leaves), "path": [p.hex() for p in path]}


def make_checkpoint(signer: Signer, leaves: Iterable[Leaf], *, sequence: int, issued_at: str,
                    previous: str | None, rollback_of: int | None = None, note: str = "") -> Checkpoint:
    ordered = tuple(sorted(leaves, key=lambda leaf: leaf.ref))
    statement = Statement(sequence=sequence, issued_at=issued_at, patients=len(ordered),
                          entries=sum(leaf.length for leaf in ordered),
                          root=root_of([leaf.hash() for leaf in ordered]).hex(), previous=previous,
                          key=signer.key_id, rollback_of=rollback_of, note=note)
    return Checkpoint(statement, signer.sign(statement.message()), ordered)


def check_proof(proof: dict[str, Any], keyring: Keyring) -> str | None:
    """Why a single patient's proof (:meth:`Checkpoint.proof`) fails; None when it holds."""
    statement = Statement(**proof["statement"])
    why = keyring.verify(statement.key, statement.message(), proof["signature"])
    if why:
        return why
    root = root_from_proof(Leaf.from_dict(proof["leaf"]).hash(), int(proof["index"]), int(proof["size"]),
                           [bytes.fromhex(p) for p in proof["path"]])
    if root is None or root.hex() != statement.root or int(proof["size"]) != statement.patients:
        return "the leaf and its path do not lead to the signed root"
    return None


# -- the store ------------------------------------------------------------------------------------

class CheckpointStore:
    """A directory of checkpoint files (or one checkpoint file, read only)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if not self.path.is_dir():
            return []
        return sorted(self.path.glob(FILE_PATTERN))

    def read(self, file: Path) -> Checkpoint:
        try:
            with file.open(encoding="utf-8") as f:
                envelope = json.loads(f.readline())
                leaves = tuple(Leaf.from_dict(json.loads(line)) for line in f if line.strip())
            return Checkpoint(Statement(**envelope["statement"]), str(envelope["signature"]), leaves)
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise CheckpointProblem(f"{file.name} is not a readable checkpoint ({type(e).__name__}: {e}).") \
                from None

    def __iter__(self) -> Iterator[Checkpoint]:
        for file in self.files():
            yield self.read(file)

    def last(self) -> Checkpoint | None:
        files = self.files()
        return self.read(files[-1]) if files else None

    def append(self, checkpoint: Checkpoint) -> Path:
        """Write the checkpoint as the store's next file: flushed to disk under a temporary name,
        then renamed, so a crash never leaves half a checkpoint under its name."""
        if self.path.is_file():
            raise CheckpointProblem(f"{self.path} is a file; checkpoints are kept in a directory.")
        self.path.mkdir(parents=True, exist_ok=True)
        final = self.path / f"checkpoint-{checkpoint.sequence:08d}.jsonl"
        if final.exists():
            raise CheckpointProblem(f"{final} already exists; another process took checkpoint "
                                    f"{checkpoint.sequence} meanwhile. Nothing was written.")
        partial = final.with_name(final.name + ".partial")
        with partial.open("wb") as f:
            f.write(canonical(checkpoint.envelope()) + b"\n")
            for leaf in checkpoint.leaves:
                f.write(canonical(leaf.to_dict()) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, final)
        descriptor = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return final


# -- what a series of checkpoints witnessed --------------------------------------------------------

@dataclass
class PatientWitness:
    """One patient's log as the checkpoints saw it: the link at each witnessed position, and which
    checkpoint first witnessed each position."""

    length: int = 0
    links: dict[int, str] = field(default_factory=dict)
    #: (up to this position, witnessed first by this checkpoint), in order
    spans: list[tuple[int, str]] = field(default_factory=list)

    def witness(self, position: int, link: str) -> str | None:
        known = self.links.get(position)
        self.links[position] = link
        return None if known in (None, link) else known

    def by(self, position: int) -> str:
        """The checkpoint that first witnessed ``position``."""
        ends = [end for end, _ in self.spans]
        return self.spans[min(bisect_left(ends, position), len(self.spans) - 1)][1]

    def truncate(self, length: int) -> int:
        """Give up positions after ``length``; how many entries were given up."""
        given_up = self.length - length
        self.links = {p: link for p, link in self.links.items() if p <= length}
        kept, start = [], 0
        for end, name in self.spans:
            if start < length:
                kept.append((min(end, length), name))
            start = end
        self.spans, self.length = kept, length
        return max(given_up, 0)


@dataclass(frozen=True)
class Difference:
    """Where a stored log first departs from what was witnessed."""

    ref: str
    checkpoint: str
    #: the first position that may differ (exact when ``first == last``)
    first: int
    last: int
    #: the log ends before the witnessed position: entries were removed
    missing: bool
    witnessed_length: int
    stored_length: int


@dataclass
class Witness:
    """What a series of trusted checkpoints witnessed, patient by patient. ``problems`` are
    checkpoints that cannot be trusted or do not follow one another; ``notes`` say what the
    operator accepted (rollbacks)."""

    patients: dict[str, PatientWitness] = field(default_factory=dict)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def last(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None

    def add(self, checkpoint: Checkpoint, keyring: Keyring) -> None:
        why = checkpoint.problem(keyring)
        if why:
            self.problems.append(why)
            return
        before = self.last
        if before is not None and (checkpoint.statement.previous != before.statement.digest()
                                   or checkpoint.sequence != before.sequence + 1):
            self.problems.append(f"{checkpoint.name} does not follow {before.name} in the store: a "
                                 f"checkpoint between them is missing, or they are of two series.")
        self.checkpoints.append(checkpoint)
        name = checkpoint.name
        seen = set()
        for leaf in checkpoint.leaves:
            seen.add(leaf.ref)
            patient = self.patients.setdefault(leaf.ref, PatientWitness())
            if leaf.length < patient.length:
                if checkpoint.statement.rollback_of is None:
                    self.problems.append(f"{name} witnesses {leaf.length} entries of {leaf.ref}, fewer "
                                         f"than the {patient.length} witnessed before, without a rollback.")
                else:
                    why = checkpoint.statement.note or "restore"
                    self.notes.append(f"{name} accepted a rollback ({why}): {leaf.ref} from "
                                      f"{patient.length} to {leaf.length} entries.")
                patient.truncate(leaf.length)
            for position, link in zip(range(leaf.links_from + 1, leaf.length + 1), leaf.links, strict=True):
                if patient.witness(position, link):
                    self.problems.append(f"{name} and an earlier checkpoint disagree about entry "
                                         f"{position} of {leaf.ref}.")
            if leaf.length and patient.witness(leaf.length, leaf.head):
                self.problems.append(f"{name} and an earlier checkpoint disagree about entry "
                                     f"{leaf.length} of {leaf.ref}.")
            if leaf.length > patient.length:
                patient.spans.append((leaf.length, name))
                patient.length = leaf.length
        for ref in [r for r in self.patients if r not in seen]:
            if checkpoint.statement.rollback_of is None:
                self.problems.append(f"{name} leaves out {ref}, which an earlier checkpoint witnessed.")
            else:
                self.notes.append(f"{name} accepted a rollback ({checkpoint.statement.note or 'restore'}): "
                                  f"{ref} and its {self.patients[ref].length} entries given up.")
                del self.patients[ref]

    def compare(self, ref: str, chain: Sequence[str]) -> Difference | None:
        """Where ``chain`` (the links recomputed from the stored entries, position 1 first)
        departs from what was witnessed for ``ref``; None if it extends it."""
        patient = self.patients.get(ref)
        if patient is None:
            return None
        matched = 0
        for position in sorted(patient.links):
            if position > len(chain) or chain[position - 1] != patient.links[position]:
                missing = position > len(chain)
                return Difference(ref, patient.by(position), matched + 1,
                                  len(chain) + 1 if missing else position, missing,
                                  patient.length, len(chain))
            matched = position
        return None

    def unwitnessed(self, ref: str, length: int) -> int:
        """How many of a stored log's entries no checkpoint has witnessed yet."""
        patient = self.patients.get(ref)
        return length - (patient.length if patient else 0)


def read_witness(store: CheckpointStore, keyring: Keyring) -> Witness:
    """Every checkpoint of the store, in order, checked against the trusted keys."""
    witness = Witness()
    for file in store.files():
        try:
            checkpoint = store.read(file)
        except CheckpointProblem as e:
            witness.problems.append(str(e))
            continue
        witness.add(checkpoint, keyring)
    return witness
