"""``journey audit`` and ``journey export xes`` over a real SQLite database: the cohort JSON, the
CSV (one row per deviation, pseudonymous unless asked), the offline HTML report, the XES log,
and a period."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from tracker.cli import app

ROOT = Path(__file__).resolve().parents[2]
XES = "{http://www.xes-standard.org/}"
#: the 60 generated patients and the project's demo patients
PATIENTS = 60 + len(list((ROOT / "docs" / "examples").glob("*.yaml")))


@pytest.fixture
def cohort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JOURNEY_DATABASE_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    with freeze_time("2026-11-27 12:00:00"):
        assert run("demo", "generate", "--patients", "60", "--seed", "3").exit_code == 0
        assert run("import", str(ROOT / "docs" / "examples")).exit_code == 0
    return tmp_path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def audit(folder: Path, *extra: str) -> tuple[dict[str, Any], list[dict[str, str]], str]:
    with freeze_time("2026-11-27 12:00:00"):
        done = run("audit", "--json", "--csv", str(folder / "d.csv"), "--html", str(folder / "r.html"),
                   *extra)
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    with (folder / "d.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return summary, rows, (folder / "r.html").read_text(encoding="utf-8")


def test_the_cohort_audit_counts_every_patient_and_every_deviation_once(cohort: Path) -> None:
    summary, rows, _ = audit(cohort, "--suppress-below", "1")  # no cell hidden: every count shown
    assert summary["patients"] == PATIENTS
    assert {"synchronous", "metachronous"} <= set(summary["by_timing"])
    counted = sum(c["events"] for c in summary["checks"] if c["events"] is not None)
    assert counted == len(rows) > 0
    assert {c["check"] for c in summary["checks"]} >= {"A-REASSESS-INTERVAL", "A-TOTAL-6M", "A-OVERRIDE"}


def test_small_cells_are_suppressed_in_the_summary(cohort: Path) -> None:
    summary, _, _ = audit(cohort)
    small = [c for c in summary["checks"] if c["suppressed"]]
    assert all(c["eligible"] is None and c["rate"] is None for c in small)
    assert all(c["eligible"] >= 5 for c in summary["checks"] if not c["suppressed"] and c["eligible"])


def test_exports_are_pseudonymous_unless_identified_is_asked_for(cohort: Path) -> None:
    _, rows, html = audit(cohort)
    assert rows and all(re.fullmatch(r"PX-[0-9a-f]{16}", r["patient"]) for r in rows)
    assert "SYN-" not in html and "DEMO-" not in html
    _, identified, _ = audit(cohort, "--identified")
    assert {r["patient"][:4] for r in identified} <= {"SYN-", "DEMO"}


def test_the_report_opens_offline_and_holds_every_chart(cohort: Path) -> None:
    _, _, html = audit(cohort)
    for chart in ("chart-adherence", "chart-by-timing", "chart-times", "chart-reassessment", "chart-dfi",
                  "chart-justified"):
        assert f'id="{chart}"' in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_a_period_audits_only_the_metastases_found_in_it(cohort: Path) -> None:
    everyone, _, _ = audit(cohort)
    period, _, _ = audit(cohort, "--from", "2026-01-01", "--to", "2026-11-27")
    assert 0 < period["patients"] < everyone["patients"]
    assert period["period"] == {"from": "2026-01-01", "to": "2026-11-27"}


def test_the_xes_export_has_one_trace_per_patient_with_timestamps_and_phases(cohort: Path) -> None:
    with freeze_time("2026-11-27 12:00:00"):
        done = run("export", "xes", str(cohort / "log.xes"))
    assert done.exit_code == 0, done.output
    log = ET.parse(cohort / "log.xes").getroot()
    assert log.tag == f"{XES}log"
    traces = log.findall(f"{XES}trace")
    assert len(traces) == PATIENTS
    event = traces[0].find(f"{XES}event")
    assert event is not None
    keys = {child.get("key") for child in event}
    assert {"concept:name", "time:timestamp", "lifecycle:transition", "phase"} <= keys


def test_the_audit_counts_the_lines_held_and_how_long(cohort: Path) -> None:
    """Contract §7.4: DEMO-08's post-operative FOLFOX has been on hold since 2026-09-14."""
    summary, _, html = audit(cohort, "--suppress-below", "1")
    holds = summary["holds"]["all"]
    assert holds["lines"] >= PATIENTS // 2 and holds["held_lines"] >= 1
    assert 0 < holds["share"] < 1
    assert holds["median_days_held"] is not None
    assert "Lines of therapy held and resumed" in html
