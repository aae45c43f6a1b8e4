"""Evidence that holds against whoever holds the database (issue 18), on both engines.

The attacker has write access to the database and the project's own code, but not the checkpoint
signing key: an entry edited and the whole chain recomputed by hand, or the last entry of a log
deleted with the patient row rewritten, pass ``journey verify`` (the database agrees with
itself) and fail ``journey verify --checkpoints``, which names the patient, the checkpoint and
the first entry that differs. A checkpoint signed with another key is refused, and the public
key is all verification needs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from db.patients import Patients, content_hash, link_of
from db.tables import EVENT, PATIENT
from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, ev, scenario
from tests.postgres.conftest import TODAY
from tracker.application import generate_keys
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

JOURNEY = (*PERIOP_START,
           ev("reassessment", "2025-03-05", response="SD", resectable=False),
           ev("reassessment", "2025-05-06", response="SD", resectable=False),
           ev("reassessment", "2025-07-06", response="PR", resectable=True))


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    private, public = tmp_path / "keys" / "checkpoint.key", tmp_path / "keys" / "checkpoint.pub"
    generate_keys(private, public)
    return {"private": private, "public": public, "store": tmp_path / "checkpoints"}


@pytest.fixture
def evidence_env(database_url: str, keys: dict[str, Path]) -> dict[str, str]:
    return {"JOURNEY_DATABASE_URL": database_url, "JOURNEY_SITE_TIMEZONE": "UTC", "COLUMNS": "250",
            "JOURNEY_CHECKPOINT_PATH": str(keys["store"]), "JOURNEY_CHECKPOINT_KEY": str(keys["private"]),
            "JOURNEY_CHECKPOINT_PUBLIC_KEYS": str(keys["public"])}


@pytest.fixture
def cli(evidence_env: dict[str, str]) -> Callable[..., Any]:
    """``cli(*args, **env)``: the journey command on the test's database, with checkpoints set up;
    an env value of None leaves that variable out."""
    from tracker.cli import app

    def run(*args: str, **env: str | None) -> Any:
        # a None value unsets the variable for the command (CliRunner's rule)
        return CliRunner().invoke(app, list(args), env={**evidence_env, **env}, catch_exceptions=False)

    return run


@pytest.fixture
def clinic(database_url: str, keys: dict[str, Path]) -> Any:
    tracker = build_tracker(Settings(database_url=database_url, checkpoint_path=keys["store"],
                                     checkpoint_key=keys["private"], checkpoint_public_keys=keys["public"]),
                            clock=FixedClock(TODAY))
    for ref in ("P-A", "P-B"):
        tracker.import_scenario(read_scenario(scenario(*JOURNEY, ref=ref)), actor="import")
    yield tracker
    tracker.engine.dispose()


def said(result: Any) -> str:
    return " ".join(result.output.split())


Edit = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def rewrite_by_hand(tracker: Any, ref: str, edit: Edit) -> None:
    """What an attacker with write access does: change the log, then recompute every content hash,
    every chain link and the patient's head and length with the project's own functions."""
    with tracker.engine.begin() as connection:
        patient_id = connection.execute(select(PATIENT.c.id).where(PATIENT.c.ref == ref)).scalar_one()
        entries = [vars(e).copy() for e in Patients(connection).logs_of([patient_id])[patient_id]]
        kept = edit(entries)
        connection.execute(delete(EVENT).where(EVENT.c.patient_id == patient_id))
        previous = "0" * 64
        for entry in kept:
            entry["content_hash"] = content_hash(entry["payload"])
            entry["chain_hash"] = previous = link_of(previous, _record(entry))
            connection.execute(EVENT.insert().values(**{k: v for k, v in entry.items() if k != "id"}))
        connection.execute(update(PATIENT).where(PATIENT.c.id == patient_id)
                           .values(log_head=previous, log_length=len(kept)))


def _record(entry: dict[str, Any]) -> Any:
    from db.records import EntryRecord

    return EntryRecord(**entry)


def test_the_recomputed_chain_attack_passes_verify_but_not_the_checkpoints(clinic: Any, cli: Any) -> None:
    done = cli("checkpoint")
    assert done.exit_code == 0, done.output
    assert "Checkpoint 1 written" in said(done) and "10 entries" in said(done)

    def pr_becomes_cr(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        last = entries[4]
        assert last["payload"]["response"] == "PR"
        last["payload"] = {**last["payload"], "response": "CR"}
        return entries

    rewrite_by_hand(clinic, "P-B", pr_becomes_cr)
    plain = cli("verify")
    assert plain.exit_code == 0, plain.output  # the database agrees with itself: the gap
    done = cli("verify", "--checkpoints", str(clinic.settings.checkpoint_path))
    assert done.exit_code == 1, done.output
    text = said(done)
    assert "P-B: entry 5 (reassessment of 2025-07-06) differs from what checkpoint 1" in text
    assert "whatever hashes were recomputed" in text
    assert "P-A" not in text
    # and the next checkpoint refuses to witness the altered log: the old witness is kept
    done = cli("checkpoint")
    assert done.exit_code == 1 and "P-B: its log no longer extends" in said(done)
    assert cli("verify", "--checkpoints", str(clinic.settings.checkpoint_path)).exit_code == 1


def test_deleting_a_last_entry_that_changed_nothing_is_caught(clinic: Any, cli: Any) -> None:
    clinic.record_event("P-B", ev("radiotherapy", "2025-07-10", target="pelvis", status="started"),
                        actor="nurse:ann")
    assert cli("checkpoint").exit_code == 0
    rewrite_by_hand(clinic, "P-B", lambda entries: entries[:-1])
    plain = cli("verify")
    assert plain.exit_code == 0, plain.output  # the entry moved no phase and no reminder
    done = cli("verify", "--checkpoints", str(clinic.settings.checkpoint_path))
    assert done.exit_code == 1, done.output
    text = said(done)
    assert "P-B: checkpoint 1" in text and "witnessed 6 entries but the database holds 5" in text
    assert "the first that differs is entry 6" in text


def test_a_patient_deleted_whole_is_caught(clinic: Any, cli: Any) -> None:
    assert cli("checkpoint").exit_code == 0
    with clinic.engine.begin() as connection:
        patient_id = connection.execute(select(PATIENT.c.id).where(PATIENT.c.ref == "P-A")).scalar_one()
        for table in ("reminder", "event", "journey_memory"):
            connection.exec_driver_sql(f"DELETE FROM {table} WHERE patient_id = {patient_id}")
        connection.execute(delete(PATIENT).where(PATIENT.c.id == patient_id))
    assert cli("verify").exit_code == 0
    done = cli("verify", "--checkpoints", str(clinic.settings.checkpoint_path))
    assert done.exit_code == 1
    assert "P-A: checkpoint 1" in said(done) and "no longer in the database" in said(done)


def test_entries_since_the_last_checkpoint_are_reported_as_not_yet_witnessed(clinic: Any, cli: Any) -> None:
    assert cli("checkpoint").exit_code == 0
    again = cli("checkpoint")
    assert again.exit_code == 0 and "Nothing new to witness" in said(again)
    clinic.record_event("P-A", ev("surgery", "2025-08-01", procedure="liver_resection", margin="R0"),
                        actor="dr:bob")
    done = cli("verify", "--checkpoints", str(clinic.settings.checkpoint_path))
    assert done.exit_code == 0, done.output
    assert "1 entries of 1 patient(s) were recorded after the last checkpoint: not yet witnessed" \
        in said(done)
    second = cli("checkpoint")
    assert "Checkpoint 2 written" in said(second) and "1 of them witnessed for the first time" in said(second)
    done = cli("verify", "--checkpoints", str(clinic.settings.checkpoint_path))
    assert done.exit_code == 0 and "not yet witnessed" not in said(done)


def test_a_checkpoint_signed_with_another_key_is_refused(clinic: Any, cli: Any, tmp_path: Path) -> None:
    assert cli("checkpoint").exit_code == 0
    generate_keys(tmp_path / "mallory.key", tmp_path / "mallory.pub")
    done = cli("verify", "--checkpoints", str(clinic.settings.checkpoint_path),
               "--public-key", str(tmp_path / "mallory.pub"))
    assert done.exit_code == 1 and "not among the trusted public keys" in said(done)
    # the attacker alters the log and witnesses it in a store of their own, with their own key
    rewrite_by_hand(clinic, "P-A", lambda entries: entries[:-1])
    forged = tmp_path / "forged"
    done = cli("checkpoint", JOURNEY_CHECKPOINT_PATH=str(forged),
               JOURNEY_CHECKPOINT_KEY=str(tmp_path / "mallory.key"),
               JOURNEY_CHECKPOINT_PUBLIC_KEYS=str(tmp_path / "mallory.pub"))
    assert done.exit_code == 0, done.output
    done = cli("verify", "--checkpoints", str(forged))
    assert done.exit_code == 1
    assert "checkpoint 1" in said(done) and "not among the trusted public keys" in said(done)


def test_verification_needs_only_the_public_key(clinic: Any, cli: Any, keys: dict[str, Path]) -> None:
    assert cli("checkpoint").exit_code == 0
    keys["private"].unlink()  # the verifier's host never had it
    done = cli("verify", "--checkpoints", str(keys["store"]), "--public-key", str(keys["public"]),
               JOURNEY_CHECKPOINT_KEY=None, JOURNEY_CHECKPOINT_PUBLIC_KEYS=None)
    assert done.exit_code == 0, done.output
    assert "the database extends every checkpoint" in said(done)
    proof = cli("checkpoint", "proof", "P-A", "--checkpoints", str(keys["store"]))
    assert proof.exit_code == 0 and '"path"' in proof.output
    file = keys["store"].parent / "P-A.proof.json"
    file.write_text(proof.stdout)
    done = cli("checkpoint", "check-proof", str(file), "--public-key", str(keys["public"]),
               JOURNEY_CHECKPOINT_KEY=None, JOURNEY_CHECKPOINT_PUBLIC_KEYS=None, JOURNEY_DATABASE_URL=None)
    assert done.exit_code == 0 and "The proof holds: checkpoint 1" in said(done), done.output
    file.write_text(proof.stdout.replace('"length": 5', '"length": 4'))
    done = cli("checkpoint", "check-proof", str(file), "--public-key", str(keys["public"]))
    assert done.exit_code == 1 and "do not lead to the signed root" in said(done)
