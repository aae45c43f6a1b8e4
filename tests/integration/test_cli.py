"""The ``journey`` command line: replay's contract JSON (§6) and exit codes, import, event add."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from freezegun import freeze_time
from typer.testing import CliRunner

from journey.pathway import Phase
from journey.reminders import ReminderStatus
from tests.conftest import PERIOP_START, SHARED_EXAMPLES, ev, scenario
from tracker.cli import app

SECTION_6_KEYS = {"patient", "as_of", "timing", "sidedness", "state", "history", "recommendations",
                  "reminders", "deviations", "rejected"}
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite"
    monkeypatch.setenv("JOURNEY_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("JOURNEY_SITE_TIMEZONE", "UTC")
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def write(tmp_path: Path, name: str, content: dict | str) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif name.endswith(".json"):
        path.write_text(json.dumps(content), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def flat(text: str) -> str:
    """Terminal output with rich's line wrapping undone."""
    return " ".join(text.split())


def replay_subprocess(path: Path, *extra: str,
                      env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real console program, as the outside acceptance tests run it."""
    return subprocess.run([sys.executable, "-m", "journey", "replay", str(path), *extra],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **(env or {})})


WITH_REJECTIONS = scenario(*PERIOP_START,
                           ev("scan_booked", "2025-02-01"),
                           ev("recurrence", "2025-02-10", site="liver_only"),
                           ev("reassessment", "2025-03-05", response="SD", resectable=False),
                           ev("progression", "2025-04-01", override="new lung nodules, MDT agreed"),
                           ev("surgery", "2025-09-01", procedure="liver_resection"),
                           as_of="2025-05-01")


def check_section_6_types(doc: dict[str, Any]) -> None:
    import re

    assert set(doc) >= SECTION_6_KEYS
    assert isinstance(doc["patient"], str)
    assert re.match(ISO_DATE, doc["as_of"])
    assert doc["timing"] in ("synchronous", "metachronous")
    assert doc["sidedness"] in ("left", "right")
    assert doc["state"] in {p.value for p in Phase}
    for key in ("history", "recommendations", "reminders", "deviations", "rejected"):
        assert isinstance(doc[key], list), key
    for step in doc["history"]:
        assert {"date", "event", "from", "to"} <= set(step)
        assert re.match(ISO_DATE, step["date"]) and isinstance(step["event"], str)
        assert step["from"] in {p.value for p in Phase} and step["to"] in {p.value for p in Phase}
    for rec in doc["recommendations"]:
        assert isinstance(rec["id"], str) and isinstance(rec["text"], str)
        assert rec["seed"] is None or isinstance(rec["seed"], int)
    for reminder in doc["reminders"]:
        assert isinstance(reminder["kind"], str) and re.match(ISO_DATE, reminder["due_on"])
        assert reminder["status"] in {s.value for s in ReminderStatus}
        assert reminder["resolved_on"] is None or re.match(ISO_DATE, reminder["resolved_on"])
    for deviation in doc["deviations"]:
        assert isinstance(deviation["check"], str) and isinstance(deviation["detail"], str)
        assert re.match(ISO_DATE, deviation["date"])
    for rejected in doc["rejected"]:
        assert isinstance(rejected["index"], int) and not isinstance(rejected["index"], bool)
        assert rejected["type"] is None or isinstance(rejected["type"], str)
        assert isinstance(rejected["reason"], str) and rejected["reason"]


# ---------------------------------------------------------------------------------------------
# replay

def test_replay_json_has_the_contract_shape_and_exits_0_with_rejected_entries(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", WITH_REJECTIONS)
    done = replay_subprocess(path, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    check_section_6_types(doc)
    assert (doc["patient"], doc["as_of"], doc["timing"], doc["sidedness"]) == (
        "T-0001", "2025-05-01", "metachronous", "left")
    assert doc["state"] == "salvage"
    assert [(r["index"], r["type"]) for r in doc["rejected"]] == [
        (2, "scan_booked"), (3, "recurrence"), (6, "surgery")]
    assert [h["event"] for h in doc["history"]] == [
        "mdt_review", "systemic_started", "reassessment", "progression"]
    assert doc["history"][-1]["override"] == "new lung nodules, MDT agreed"
    assert doc["reminders"][0] == {**doc["reminders"][0], "kind": "reassessment_due",
                                   "due_on": "2025-03-10", "status": "resolved",
                                   "resolved_on": "2025-03-05"}


def test_replay_json_has_the_contract_keys_and_only_the_documented_extras(tmp_path: Path) -> None:
    result = run("replay", str(write(tmp_path, "s.yaml", WITH_REJECTIONS)), "--json")
    keys = set(json.loads(result.stdout))
    assert keys >= SECTION_6_KEYS
    # issue 3: guideline context, the missing facts, and the ruleset that judged (docs/decisions.md)
    assert keys - SECTION_6_KEYS == {"context", "missing", "ruleset"}


def test_replay_as_of_overrides_the_file_and_json_files_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "s.json", scenario(*PERIOP_START, as_of="2025-02-01"))
    result = run("replay", str(path), "--json", "--as-of", "2025-03-10")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["as_of"] == "2025-03-10" and doc["state"] == "reassessment"
    assert doc["reminders"][0]["status"] == "due"


def test_replay_without_as_of_uses_today_at_the_site(tmp_path: Path, database: Path) -> None:
    path = write(tmp_path, "s.yaml", scenario(*PERIOP_START))
    with freeze_time("2025-03-09 12:00:00"):
        doc = json.loads(run("replay", str(path), "--json").stdout)
    assert doc["as_of"] == "2025-03-09" and doc["state"] == "neoadjuvant"


def test_replay_touches_no_database(tmp_path: Path, database: Path) -> None:
    result = run("replay", str(write(tmp_path, "s.yaml", WITH_REJECTIONS)), "--json")
    assert result.exit_code == 0
    assert not database.exists()


@pytest.mark.parametrize("name,content,words", [
    ("missing.yaml", None, "There is no file"),
    ("broken.yaml", "patient: [unclosed\n", "cannot be read as YAML"),
    ("broken.json", "{not json", "cannot be read as JSON"),
    ("list.yaml", "- 1\n- 2\n", "must have a 'patient'"),
    ("nopatient.yaml", {"events": []}, "no 'patient'"),
    ("badpatient.yaml", {"patient": {"ref": "X"}, "events": []}, "primary tumour site"),
    ("binary.yaml", b"\xff\xfe\x00junk", "not a UTF-8 text file"),
])
def test_replay_of_an_unreadable_or_malformed_file_exits_2_with_a_message_on_stderr(
        tmp_path: Path, name: str, content: Any, words: str) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        write(tmp_path, name, content)
    result = run("replay", str(path), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert words in flat(result.stderr)
    assert "Traceback" not in flat(result.stderr)


UNQUOTED_PATIENT = """patient:
  ref: {ref}
  primary: {{site: sigmoid, diagnosed_on: 2024-01-10, resected_on: 2024-02-01}}
  metastases: {{detected_on: 2024-12-01, count: 2, max_size_mm: 35}}
events: []
as_of: 2025-01-01
"""


@pytest.mark.parametrize("ref", ["012345", "12:30", "0x1F", "yes", "2025-01-01"])
def test_a_reference_a_yaml_reader_would_change_is_refused_with_what_was_typed(
        tmp_path: Path, database: Path, ref: str) -> None:
    """Contract §7.11: 012345 would become patient 5349; it must be quoted, never stored changed."""
    path = write(tmp_path, "unquoted.yaml", UNQUOTED_PATIENT.format(ref=ref))
    for command in (("replay", str(path), "--json"), ("import", str(path))):
        result = run(*command)
        assert result.exit_code == 2, result.stdout
        assert f"ref: {ref}" in flat(result.stderr) and "in quotes" in flat(result.stderr)
    assert run("patient", "count").stdout.strip() == "0"
    quoted = write(tmp_path, "quoted.yaml", UNQUOTED_PATIENT.format(ref=f'"{ref}"'))
    assert json.loads(run("replay", str(quoted), "--json").stdout)["patient"] == ref


def test_a_date_off_the_calendar_rejects_its_event_and_in_the_patient_block_the_file(
        tmp_path: Path) -> None:
    one_event = write(tmp_path, "event.yaml", UNQUOTED_PATIENT.format(ref='"P-1"').replace(
        "events: []", "events:\n  - {date: 2024-12-10, type: mdt_review, resectable: true}\n"
                      "  - {date: 2024-02-30, type: progression}"))
    result = run("replay", str(one_event), "--json")
    assert result.exit_code == 0
    [rejected] = json.loads(result.stdout)["rejected"]
    assert rejected["index"] == 1 and "not a date on the calendar" in rejected["reason"]
    patient_block = write(tmp_path, "patient.yaml", UNQUOTED_PATIENT.format(ref='"P-1"').replace(
        "diagnosed_on: 2024-01-10", "diagnosed_on: 2024-02-30"))
    result = run("replay", str(patient_block), "--json")
    assert result.exit_code == 2
    # the same words, and the field's name (contract §7.11)
    assert ("The date the primary was diagnosed (diagnosed_on: '2024-02-30') is not a date on the "
            "calendar") in flat(result.stderr)
    as_of = write(tmp_path, "asof.yaml", UNQUOTED_PATIENT.format(ref='"P-1"').replace(
        "as_of: 2025-01-01", "as_of: 2025-02-29"))
    result = run("replay", str(as_of), "--json")
    assert result.exit_code == 2 and "as_of ('2025-02-29') is not a date on the calendar" in flat(
        result.stderr)


def test_the_console_program_exits_2_on_stderr_for_a_file_it_cannot_read(tmp_path: Path) -> None:
    done = replay_subprocess(tmp_path / "missing.yaml", "--json")
    assert (done.returncode, done.stdout) == (2, "")
    assert "There is no file" in flat(done.stderr) and "Traceback" not in done.stderr


def test_replay_of_the_contract_examples_exits_0(tmp_path: Path) -> None:
    for path in sorted(SHARED_EXAMPLES.glob("*.yaml")):
        result = run("replay", str(path), "--json")
        assert result.exit_code == 0, (path.name, result.stderr)
        check_section_6_types(json.loads(result.stdout))


def test_replay_without_json_prints_a_readable_summary(tmp_path: Path) -> None:
    result = run("replay", str(write(tmp_path, "s.yaml", WITH_REJECTIONS)))
    assert result.exit_code == 0
    assert "T-0001" in flat(result.stdout) and "salvage" in flat(result.stdout)
    assert not result.stdout.lstrip().startswith("{")


# ---------------------------------------------------------------------------------------------
# import

def test_importing_twice_changes_nothing_and_says_so(tmp_path: Path, database: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "a.yaml", scenario(*PERIOP_START, ref="A-1"))
    write(folder, "b.yaml", scenario(*PERIOP_START, ev("progression", "2025-02-01"), ref="B-1"))
    with freeze_time("2025-06-01 12:00:00"):
        first = run("import", str(folder))
        assert first.exit_code == 0, first.stderr
        assert "A-1: registered, 2 event(s) added" in flat(first.stdout)
        assert "B-1: registered, 3 event(s) added" in flat(first.stdout)
        shown = run("patient", "show", "B-1")
        second = run("import", str(folder))
        assert second.exit_code == 0, second.stderr
        assert "A-1: already registered, 0 event(s) added, 2 already recorded" in flat(second.stdout)
        assert "B-1: already registered, 0 event(s) added, 3 already recorded" in flat(second.stdout)
        assert run("patient", "show", "B-1").stdout == shown.stdout
        assert run("verify").exit_code == 0


def test_import_reports_refused_entries_and_adds_the_new_ones_of_a_longer_file(
        tmp_path: Path, database: Path) -> None:
    with freeze_time("2025-06-01 12:00:00"):
        run("import", str(write(tmp_path, "p.yaml", scenario(*PERIOP_START))))
        longer = write(tmp_path, "p.yaml", scenario(*PERIOP_START, ev("scan_booked", "2025-02-01"),
                                                    ev("progression", "2025-02-02")))
        result = run("import", str(longer))
    assert result.exit_code == 0
    said = flat(result.stdout)
    assert "T-0001: already registered, 1 event(s) added, 2 already recorded (left as they were), " \
           "1 refused." in said
    assert "entry 2 (scan_booked) refused" in said


def test_import_of_an_unreadable_file_exits_2(tmp_path: Path, database: Path) -> None:
    result = run("import", str(write(tmp_path, "x.yaml", "patient: [")))
    assert result.exit_code == 2
    assert "x.yaml" in flat(result.stderr)


# ---------------------------------------------------------------------------------------------
# event add

@pytest.fixture
def registered(tmp_path: Path, database: Path) -> str:
    with freeze_time("2025-06-01 12:00:00"):
        assert run("import", str(write(tmp_path, "p.yaml", scenario(*PERIOP_START)))).exit_code == 0
    return "T-0001"


def test_event_add_records_and_tells_where_the_patient_moved(registered: str) -> None:
    with freeze_time("2025-06-01 12:00:00"):
        result = run("event", "add", registered, "--type", "reassessment", "--date", "2025-03-05",
                     "--response", "PR", "--resectable", "true")
        assert result.exit_code == 0, result.stderr
        assert "neoadjuvant -> resection" in flat(result.stdout)
        assert run("verify").exit_code == 0


def test_event_add_speaks_the_vocabulary_of_real_courses(registered: str) -> None:
    """Contract §7: a hold and its resumption, the stages of a liver operation, from the CLI."""
    steps = [("systemic_paused", "2025-02-01", "--reason", "toxicity"),
             ("systemic_resumed", "2025-02-20", "--regimen", "FOLFIRI"),
             ("systemic_stopped", "2025-04-01", "--reason", "surgery"),
             ("surgery", "2025-04-20", "--procedure", "liver_resection", "--stage", "1", "--margin", "R0"),
             ("surgery", "2025-04-28", "--procedure", "portal_vein_embolisation"),
             ("surgery", "2025-05-30", "--procedure", "liver_resection", "--stage", "2", "--margin", "R0")]
    with freeze_time("2025-06-01 12:00:00"):
        for type_, day, *fields in steps:
            result = run("event", "add", registered, "--type", type_, "--date", day, *fields)
            assert result.exit_code == 0, (type_, result.stderr)
        shown = flat(run("patient", "show", registered).stdout)
        assert "hold review" in shown and "second stage due" in shown
        assert run("verify").exit_code == 0


def test_event_add_off_pathway_exits_2_with_the_sentence_and_records_nothing(registered: str) -> None:
    with freeze_time("2025-06-01 12:00:00"):
        result = run("event", "add", registered, "--type", "recurrence", "--date", "2025-02-01",
                     "--site", "liver_only")
        assert result.exit_code == 2
        said = flat(result.stderr)
        assert "A recurrence cannot be recorded while the patient is in neoadjuvant" in said
        assert "override" in flat(result.stderr)
        assert result.stdout == ""
        overridden = run("event", "add", registered, "--type", "recurrence", "--date", "2025-02-01",
                         "--site", "liver_only", "--override", "new lesion, MDT agreed")
        assert overridden.exit_code == 0, overridden.stderr
        assert "neoadjuvant -> recurrence" in flat(overridden.stdout)


@pytest.mark.parametrize("args,words", [
    (("--type", "progression", "--date", "2025-06-02"), "entries cannot be in the future"),
    (("--type", "progression", "--date", "2025-06-02", "--override", "sure"), "in the future"),
    (("--type", "surgery", "--date", "2025-02-01", "--procedure", "primary_resection"),
     "already been removed"),
    (("--type", "scan", "--date", "2025-02-01"), "not something the tracker can record"),
    (("--type", "surgery", "--date", "2025-02-01", "--procedure", "liver"), "procedure must be one of"),
])
def test_event_add_impossible_entry_exits_2_with_the_sentence(registered: str, args: tuple[str, ...],
                                                              words: str) -> None:
    with freeze_time("2025-06-01 12:00:00"):
        result = run("event", "add", registered, *args)
    assert result.exit_code == 2
    assert words in flat(result.stderr)
    assert "Traceback" not in flat(result.stderr)


def test_event_add_for_an_unknown_patient_exits_3(database: Path) -> None:
    result = run("event", "add", "NOBODY", "--type", "progression", "--date", "2025-02-01")
    assert result.exit_code == 3
    assert "NOBODY" in flat(result.stderr)


def test_event_add_with_a_stale_version_exits_4(registered: str) -> None:
    with freeze_time("2025-06-01 12:00:00"):
        result = run("event", "add", registered, "--type", "progression", "--date", "2025-02-01",
                     "--expect-version", "1")
    assert result.exit_code == 4
    assert "changed by someone else" in flat(result.stderr)


def test_worklist_lists_the_overdue_reassessment(registered: str) -> None:
    with freeze_time("2025-06-01 12:00:00"):
        run("event", "add", registered, "--type", "radiotherapy", "--date", "2025-05-01",
            "--target", "pelvis", "--status", "started")
        result = run("worklist", "--as-of", "2025-06-01")
    assert result.exit_code == 0
    assert "T-0001" in flat(result.stdout) and "overdue" in flat(result.stdout)
    assert date(2025, 3, 10).isoformat() in flat(result.stdout)


def test_a_reminder_is_given_to_a_person_and_released_from_the_command_line(registered: str) -> None:
    with freeze_time("2025-06-01 12:00:00"):
        assert run("user", "add", "nina", "--role", "navigator").exit_code == 0
        given = run("reminder", "assign", "1", "--to", "nina")
        assert given.exit_code == 0, given.stderr
        assert "to nina." in flat(given.stdout)
        assert "nina" in flat(run("worklist", "--as-of", "2025-06-01").stdout)
        released = run("reminder", "assign", "1", "--release")
        assert "Released the reassessment due of T-0001" in flat(released.stdout)
        assert run("reminder", "assign", "1").exit_code == 2  # neither --to nor --release


def test_event_add_takes_a_coded_override_reason(registered: str) -> None:
    with freeze_time("2025-06-01 12:00:00"):
        result = run("event", "add", registered, "--type", "recurrence", "--date", "2025-05-01",
                     "--site", "both", "--override-code", "new_indication")
        assert result.exit_code == 0, result.stderr
        shown = flat(run("patient", "show", registered).stdout)
    assert "new indication" in shown
