"""``journey user ...`` and ``journey access-log`` on a real SQLite file, and the CLI's refusal to
open the site's records without its secrets (only the demo and replay go without)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import scenario
from tracker.application import CLI, NotSignedIn
from tracker.cli import app
from tracker.compose import build_tracker

PASSWORD = "a long enough password"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "people.sqlite"
    monkeypatch.setenv("JOURNEY_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("JOURNEY_ACTOR", "cli:operator")
    monkeypatch.setenv("COLUMNS", "200")
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_an_administrator_deactivates_resets_and_revokes_from_the_command_line(database: Path) -> None:
    added = run("user", "add", "nurse1", "--role", "navigator", "--password", PASSWORD)
    assert added.exit_code == 0 and "expires" in added.output
    token = added.output.split("API token: ")[1].split()[0]
    users = build_tracker().users
    users.start_session(users.authenticate("nurse1", PASSWORD), CLI)
    assert users.by_token(token).name == "nurse1"

    deactivated = run("user", "deactivate", "nurse1")
    assert deactivated.exit_code == 0 and "1 open session(s) ended" in deactivated.output
    assert users.open_sessions("nurse1") == 0
    with pytest.raises(NotSignedIn):
        users.by_token(token)
    with pytest.raises(NotSignedIn):
        users.authenticate("nurse1", PASSWORD)
    assert "inactive" in run("user", "list").output

    assert run("user", "activate", "nurse1").exit_code == 0
    reset = run("user", "reset-password", "nurse1")
    assert reset.exit_code == 0
    new_password = reset.output.split("password:  ")[1].split()[0]
    assert users.authenticate("nurse1", new_password).name == "nurse1"

    token = run("user", "token", "nurse1").output.split("API token: ")[1].split()[0]
    assert users.by_token(token).name == "nurse1"
    assert run("user", "revoke-token", "nurse1").exit_code == 0
    with pytest.raises(NotSignedIn):
        users.by_token(token)
    assert run("user", "deactivate", "nobody").exit_code == 3  # not found

    mine = run("access-log", "--user", "cli:operator").output
    for action in ("user-deactivated", "user-activated", "password-reset", "token-revoked"):
        assert action in mine


def test_access_log_answers_who_looked_at_a_patient_and_through_which_channel(
        database: Path, tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(scenario(ref="P-77")), encoding="utf-8")
    assert run("import", str(path)).exit_code == 0
    assert run("patient", "show", "P-77").exit_code == 0
    assert run("worklist").exit_code == 0

    who = run("access-log", "--patient", "P-77")
    assert who.exit_code == 0
    assert "cli:operator" in who.output and "cli" in who.output and "read" in who.output
    assert "Nothing in the access log for patient P-00" in run("access-log", "--patient", "P-00").output


def test_the_command_line_refuses_the_records_without_the_site_key_but_the_demo_runs(
        database: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JOURNEY_PSEUDONYM_KEY", "")
    refused = run("verify")
    assert refused.exit_code == 2
    assert "JOURNEY_PSEUDONYM_KEY is not set" in " ".join(refused.output.split())
    assert run("demo", "generate", "--patients", "3").exit_code == 0
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(scenario(ref="P-78", as_of="2025-06-01")), encoding="utf-8")
    assert run("replay", str(path)).exit_code == 0
