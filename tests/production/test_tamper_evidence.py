"""Tamper evidence: an event row edited, deleted or reordered behind the tracker's back with raw
SQL is reported by ``journey verify`` with the patient and the position in that patient's log."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, ev, scenario

JOURNEY = (*PERIOP_START,
           ev("reassessment", "2025-03-05", response="SD", resectable=False),
           ev("reassessment", "2025-05-06", response="SD", resectable=False),
           ev("reassessment", "2025-07-06", response="PR", resectable=True))


@pytest.fixture
def two_patients(clinic: Any) -> Any:
    for ref in ("P-A", "P-B"):
        clinic.import_scenario(read_scenario(scenario(*JOURNEY, ref=ref)), actor="import")
    assert list(clinic.verify()) == []
    return clinic


def sql(tracker: Any, statement: str) -> None:
    with tracker.engine.begin() as connection:
        connection.execute(text(statement))


B = "(SELECT id FROM patient WHERE ref = 'P-B')"

TAMPERING = {
    "an edited clinical date": f"UPDATE event SET date = '2025-03-04' WHERE patient_id = {B} AND seq = 3",
    "an edited payload": (f"UPDATE event SET payload = (SELECT payload FROM event WHERE patient_id = {B} "
                          f"AND seq = 4) WHERE patient_id = {B} AND seq = 3"),
    "an edited actor": f"UPDATE event SET actor = 'mallory' WHERE patient_id = {B} AND seq = 3",
    "an edited recording time": (f"UPDATE event SET recorded_at = recorded_at - interval '1 day' "
                                 f"WHERE patient_id = {B} AND seq = 3"),
    "a deleted event": f"DELETE FROM event WHERE patient_id = {B} AND seq = 3",
    # the unique key (patient, seq) is checked row by row: swap through negative numbers
    "two events swapped": ";".join((f"UPDATE event SET seq = -3 WHERE patient_id = {B} AND seq = 3",
                                    f"UPDATE event SET seq = 3 WHERE patient_id = {B} AND seq = 4",
                                    f"UPDATE event SET seq = 4 WHERE patient_id = {B} AND seq = -3")),
    "a hash replaced": f"UPDATE event SET chain_hash = '{'a' * 64}' WHERE patient_id = {B} AND seq = 3",
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_verify_names_the_patient_and_position_of_a_tampered_event(
        two_patients: Any, journey: Any, database_url: str, tampering: str) -> None:
    statement = TAMPERING[tampering]
    if database_url.startswith("sqlite"):
        statement = statement.replace("recorded_at - interval '1 day'", "'2020-01-01 00:00:00.000000'")
    for part in statement.split(";"):
        sql(two_patients, part)
    done = journey("verify")
    assert done.exit_code == 1, done.output
    lines = [line for line in done.output.splitlines() if "event" in line and "hash" in line]
    assert lines, done.output
    assert "P-B: event 3" in lines[0], done.output
    assert "P-A" not in done.output


def test_a_correction_is_a_new_event_and_verify_still_passes(two_patients: Any, journey: Any) -> None:
    two_patients.record_event("P-A", ev("reassessment", "2025-07-20", response="PR", resectable=True,
                                        note="Corrects the reassessment of 2025-07-06 (PR confirmed)."),
                              actor="dr:bob")
    done = journey("verify")
    assert done.exit_code == 0, done.output


def test_deleting_the_last_event_is_caught_by_the_patient_s_log_head(
        two_patients: Any, journey: Any) -> None:
    """No later link betrays a removed last event; the head link and length on the patient row do."""
    sql(two_patients, f"DELETE FROM event WHERE patient_id = {B} AND seq = (SELECT max(seq) FROM event "
                      f"WHERE patient_id = {B})")
    done = journey("verify")
    assert done.exit_code == 1, done.output
    assert "P-B: the log ends at event 4 but 5 were recorded" in " ".join(done.output.split()), done.output
    assert "P-A" not in done.output
