"""The pure evidence room: the Merkle tree hashes as RFC 6962 says, one patient's proof is small
and checks alone, a checkpoint signed with another key or altered after signing is refused, and
a series of checkpoints says which entry first departs from what it witnessed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tracker.evidence.checkpoints import (
    EMPTY_HEAD,
    Checkpoint,
    CheckpointStore,
    Leaf,
    check_proof,
    make_checkpoint,
    read_witness,
)
from tracker.evidence.merkle import inclusion_proof, leaf_hash, node_hash, root_from_proof, root_of
from tracker.evidence.signing import KeyProblem, Keyring, generate, load_keyring, load_signer


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written as its recursion."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(rfc6962_root(leaves[:k]), rfc6962_root(leaves[k:]))


@pytest.mark.parametrize("size", range(0, 34))
def test_the_root_is_rfc6962_s_and_every_inclusion_proof_leads_to_it(size: int) -> None:
    leaves = [leaf_hash(f"patient {i}".encode()) for i in range(size)]
    root = root_of(leaves)
    assert root == rfc6962_root(leaves)
    for index in range(size):
        proof = inclusion_proof(leaves, index)
        assert len(proof) <= max(size - 1, 0).bit_length()  # log2(N): small whatever the cohort
        assert root_from_proof(leaves[index], index, size, proof) == root
        if size > 1:  # another leaf, or the right leaf at another place, does not
            assert root_from_proof(leaf_hash(b"forged"), index, size, proof) != root
            assert root_from_proof(leaves[index], (index + 1) % size, size, proof) != root


def chain(*contents: str) -> tuple[str, ...]:
    links, previous = [], EMPTY_HEAD
    for content in contents:
        previous = hashlib.sha256((previous + content).encode()).hexdigest()
        links.append(previous)
    return tuple(links)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "keys" / "checkpoint.key", tmp_path / "keys" / "checkpoint.pub"
    generate(private, public)
    return private, public


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
        keys: tuple[Path, Path]) -> None:
    private, public = keys
    assert private.stat().st_mode & 0o777 == 0o600
    assert load_signer(private).key_id in load_keyring(public).keys
    with pytest.raises(KeyProblem, match="already exists"):
        generate(private, public.with_name("other.pub"))


def test_a_checkpoint_verifies_with_the_public_key_alone_and_not_with_another(
        keys: tuple[Path, Path], tmp_path: Path) -> None:
    private, public = keys
    signer = load_signer(private)
    leaves = [Leaf("P-B", 2, chain("a", "b")[-1], 0, chain("a", "b")), Leaf("P-A", 0, EMPTY_HEAD, 0)]
    checkpoint = make_checkpoint(signer, leaves, sequence=1, issued_at="2026-01-15T12:00:00Z", previous=None)
    assert checkpoint.problem(load_keyring(public)) is None
    generate(tmp_path / "other.key", tmp_path / "other.pub")
    why = checkpoint.problem(load_keyring(tmp_path / "other.pub"))
    assert why and "not among the trusted public keys" in why
    # a key with the same id claimed but another key's signature
    forged = make_checkpoint(load_signer(tmp_path / "other.key"), leaves, sequence=1,
                             issued_at="2026-01-15T12:00:00Z", previous=None)
    impostor = Checkpoint(checkpoint.statement, forged.signature, checkpoint.leaves)
    assert "does not verify" in (impostor.problem(load_keyring(public)) or "")


def test_a_leaf_altered_after_signing_is_refused(keys: tuple[Path, Path]) -> None:
    signer = load_signer(keys[0])
    links = chain("a", "b")
    checkpoint = make_checkpoint(signer, [Leaf("P-A", 2, links[-1], 0, links)], sequence=1,
                                 issued_at="2026-01-15T12:00:00Z", previous=None)
    shorter = Checkpoint(checkpoint.statement, checkpoint.signature,
                         (Leaf("P-A", 1, links[0], 0, links[:1]),))
    assert "do not give its signed root" in (shorter.problem(Keyring([signer.public])) or "")


def test_one_patient_s_proof_checks_alone(keys: tuple[Path, Path]) -> None:
    signer = load_signer(keys[0])
    leaves = [Leaf(f"P-{i:03}", 1, chain(str(i))[0], 0, chain(str(i))) for i in range(100)]
    checkpoint = make_checkpoint(signer, leaves, sequence=1, issued_at="2026-01-15T12:00:00Z", previous=None)
    proof = checkpoint.proof("P-042")
    assert len(proof["path"]) == 7
    assert check_proof(proof, load_keyring(keys[1])) is None
    proof["leaf"]["length"] = 2
    assert check_proof(proof, load_keyring(keys[1])) is not None


def test_the_witness_names_the_first_entry_that_departs(keys: tuple[Path, Path], tmp_path: Path) -> None:
    signer, keyring = load_signer(keys[0]), load_keyring(keys[1])
    store = CheckpointStore(tmp_path / "checkpoints")
    first = make_checkpoint(signer, [Leaf("P-A", 2, chain("a", "b")[-1], 0, chain("a", "b"))], sequence=1,
                            issued_at="2026-01-15T12:00:00Z", previous=None)
    store.append(first)
    grown = chain("a", "b", "c", "d")
    second = make_checkpoint(signer, [Leaf("P-A", 4, grown[-1], 2, grown[2:])], sequence=2,
                             issued_at="2026-01-16T12:00:00Z", previous=first.statement.digest())
    store.append(second)
    witness = read_witness(store, keyring)
    assert witness.problems == []
    assert witness.compare("P-A", chain("a", "b", "c", "d", "e")) is None
    assert witness.unwitnessed("P-A", 5) == 1
    edited = witness.compare("P-A", chain("a", "b", "X", "d"))
    assert edited and (edited.first, edited.last, edited.missing) == (3, 3, False)
    assert edited.checkpoint == second.name
    early = witness.compare("P-A", chain("a", "X", "c", "d"))
    assert early and early.checkpoint == first.name
    removed = witness.compare("P-A", chain("a", "b", "c"))
    assert removed and (removed.first, removed.last, removed.missing) == (4, 4, True)


def test_a_missing_checkpoint_in_the_series_is_a_problem(keys: tuple[Path, Path], tmp_path: Path) -> None:
    signer, keyring = load_signer(keys[0]), load_keyring(keys[1])
    store = CheckpointStore(tmp_path)
    previous = None
    for sequence in (1, 2, 3):
        checkpoint = make_checkpoint(signer, [Leaf("P-A", 0, EMPTY_HEAD, 0)], sequence=sequence,
                                     issued_at=f"2026-01-1{sequence}T12:00:00Z", previous=previous)
        previous = checkpoint.statement.digest()
        store.append(checkpoint)
    (tmp_path / "checkpoint-00000002.jsonl").unlink()
    problems = read_witness(store, keyring).problems
    assert len(problems) == 1 and "does not follow checkpoint 1" in problems[0]
