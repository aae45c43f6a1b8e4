"""A corpus of hostile and careless input through the CLI: each is refused with a clear message
and exit code 2, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from tests.conftest import PERIOP_START, patient

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def scenario_text(suffix: str = ".yaml", events: list[Any] | None = None, **overrides: Any) -> str:
    document = {"patient": patient(**{"ref": "BAD-1", **overrides}), "events": events or []}
    return json.dumps(document) if suffix == ".json" else yaml.safe_dump(document, allow_unicode=True)


BAD_FILES: dict[str, tuple[str, str, str]] = {
    # name: (suffix, content, words the message must contain)
    "future diagnosis": (".yaml", scenario_text(primary={"diagnosed_on": "2999-01-01", "resected_on": None},
                                                      metastases={"detected_on": "2999-02-01"}),
                         "after today"),
    "metastases found in the future": (".yaml", scenario_text(metastases={"detected_on": "2999-06-01"}),
                                       "after today"),
    "a diagnosis in year 1": (".yaml", scenario_text(primary={"diagnosed_on": "0001-01-10"}), "before 1900"),
    "an impossible calendar date": (".yaml", scenario_text(primary={"diagnosed_on": "2024-02-30"}),
                                    "The date the primary was diagnosed (diagnosed_on: '2024-02-30') "
                                    "is not a date on the calendar"),
    "negative count": (".yaml", scenario_text(metastases={"count": -2}), "between 1 and 200"),
    "a 10^9 mm metastasis": (".json", scenario_text(".json", metastases={"max_size_mm": 10**9}),
                             "between 1 and 300 mm"),
    "NaN size": (".json", scenario_text(".json").replace('"max_size_mm": 35', '"max_size_mm": NaN'),
                 "between 1 and 300 mm"),
    "ECOG 7": (".yaml", scenario_text(ecog=7), "between 0 and 4"),
    "unknown site code": (".yaml", scenario_text(primary={"site": "appendix"}), "site must be one of"),
    "unknown MMR code": (".yaml", scenario_text(biomarkers={"mmr": "weird"}), "MMR status"),
    "control characters in the reference": (".yaml", scenario_text(ref="BAD\x1b[31m-1"), "reference"),
    "right-to-left override in the reference": (".yaml", scenario_text(ref="BAD\u202e1-"), "reference"),
    "SQL injection in the reference": (".yaml", scenario_text(ref="x'; DROP TABLE patient; --"), "reference"),
    "spreadsheet formula as reference": (".yaml", scenario_text(ref="=HYPERLINK(\"http://evil\")"),
                                         "reference"),
    "a 100,000 character reference": (".yaml", scenario_text(ref="A" * 100_000), "at most 64"),
    "a very long T stage": (".yaml", scenario_text(primary={"t_stage": "T" * 10_000}), "short code"),
    "malformed YAML": (".yaml", "patient: {ref: X, primary: [unclosed\n", "cannot be read as YAML"),
    "malformed JSON": (".json", '{"patient": {"ref": "X",}', "cannot be read as JSON"),
    "a YAML python tag": (".yaml", "patient: !!python/object/apply:os.system ['true']\n",
                          "cannot be read as YAML"),
    "a list instead of a scenario": (".yaml", "- a\n- b\n", "must have a 'patient'"),
    "an empty file": (".yaml", "", "must have a 'patient'"),
    "a 5000-digit number": (".json", scenario_text(".json").replace('"count": 2', '"count": ' + "9" * 5000),
                            "thousands of digits"),
    "nesting 100,000 deep": (".json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "latin-1 bytes": (".yaml", "", "not a UTF-8 text file"),  # written as bytes below
    "a 10 MB file": (".yaml", "", "at most 5 MB"),  # written below
}


def patient_count(database_url: str) -> int:
    from db.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM patient")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_scenario_file_is_refused_with_exit_2_and_nothing_is_written(
        case: str, journey: Any, tmp_path: Path, database_url: str) -> None:
    suffix, content, words = BAD_FILES[case]
    file = tmp_path / f"bad{suffix}"
    if case == "latin-1 bytes":
        file.write_bytes(scenario_text().replace("BAD-1", "BÄD-1").encode("latin-1"))
    elif case == "a 10 MB file":
        file.write_text(scenario_text() + "#" + "x" * (10 * 1024 * 1024) + "\n")
    else:
        file.write_text(content, encoding="utf-8")
    done = journey("import", str(file))
    assert done.exit_code == 2, done.output
    assert words in " ".join(done.output.split()), done.output
    assert "Traceback" not in done.output
    assert patient_count(database_url) == 0


@pytest.fixture
def registered(journey: Any, tmp_path: Path) -> Any:
    file = tmp_path / "good.yaml"
    file.write_text(scenario_text(events=[dict(e) for e in PERIOP_START]))
    assert journey("import", str(file)).exit_code == 0
    return journey


def event_count(database_url: str) -> int:
    from db.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM event")).scalar_one())
    finally:
        engine.dispose()


BAD_EVENTS: dict[str, tuple[list[str], str]] = {
    "a date in the future": (["--type", "reassessment", "--date", "2999-01-01", "--response", "PR",
                              "--resectable", "true"], "cannot be in the future"),
    "a date before the primary's diagnosis": (["--type", "reassessment", "--date", "2020-01-01",
                                               "--response", "PR", "--resectable", "true"],
                                              "before the primary tumour was diagnosed"),
    "February 30th": (["--type", "reassessment", "--date", "2025-02-30", "--response", "PR",
                       "--resectable", "true"], "not a date on the calendar"),
    "an unknown event type": (["--type", "chemo", "--date", "2025-03-01"], "not something the tracker"),
    "SQL injection as the type": (["--type", "reassessment'; DELETE FROM event; --", "--date", "2025-03-01"],
                                  "not something the tracker"),
    "an unknown response code": (["--type", "reassessment", "--date", "2025-03-01", "--response", "VGPR",
                                  "--resectable", "true"], "must be one of CR, PR, SD, PD"),
    "maybe as yes/no": (["--type", "reassessment", "--date", "2025-03-01", "--response", "PR",
                         "--resectable", "maybe"], "yes or no"),
    "an unknown field": (["--type", "reassessment", "--date", "2025-03-01", "--response", "PR",
                          "--resectable", "true", "--dose-mg", "85"], "has no field dose_mg"),
    "control characters in the note": (["--type", "reassessment", "--date", "2025-03-01", "--response",
                                        "PR", "--resectable", "true", "--note", "ok\x07\x1b[2J"],
                                       "control characters"),
    "a 100,000 character note": (["--type", "reassessment", "--date", "2025-03-01", "--response", "PR",
                                  "--resectable", "true", "--note", "n" * 100_000], "too long"),
    "an unknown patient": (["--type", "reassessment", "--date", "2025-03-01"], "No patient"),
}


@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_a_bad_event_on_the_command_line_is_refused_and_nothing_is_written(
        case: str, registered: Any, database_url: str) -> None:
    args, words = BAD_EVENTS[case]
    ref = "NOBODY" if case == "an unknown patient" else "BAD-1"
    done = registered("event", "add", ref, *args)
    assert done.exit_code == (3 if case == "an unknown patient" else 2), done.output
    assert words in " ".join(done.output.split()), done.output
    assert event_count(database_url) == 2


def test_sql_and_unicode_in_a_note_are_kept_as_plain_text(registered: Any, database_url: str) -> None:
    note = "Robert'); DROP TABLE event;-- Zoë 名前 ✓"
    done = registered("event", "add", "BAD-1", "--type", "reassessment", "--date", "2025-03-01",
                      "--response", "SD", "--resectable", "false", "--note", note)
    assert done.exit_code == 0, done.output
    assert event_count(database_url) == 3
    assert registered("verify").exit_code == 0


def test_a_bad_entry_in_an_imported_file_is_refused_by_name_and_not_written(
        journey: Any, tmp_path: Path, database_url: str) -> None:
    file = tmp_path / "mixed.yaml"
    file.write_text(scenario_text(events=[*[dict(e) for e in PERIOP_START],
                                          {"date": "2999-01-01", "type": "reassessment", "response": "PR",
                                           "resectable": True}]))
    done = journey("import", str(file))
    assert "entry 2 (reassessment) refused" in done.output and "future" in done.output
    assert event_count(database_url) == 2
