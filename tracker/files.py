"""Reading scenario files (YAML or JSON) with clear errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from journey.errors import InvalidScenario
from journey.scenario import Scenario, read_scenario

MAX_FILE_BYTES = 5 * 1024 * 1024


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES, what: str = "a scenario file") -> str:
    """The text of a UTF-8 file; refused in words when it is missing, too big or not text."""
    if not path.is_file():
        raise InvalidScenario(f"There is no file {path}.")
    size = path.stat().st_size
    if size > max_bytes:
        raise InvalidScenario(f"{path.name} is {size // 1024} KB; {what} is at most "
                              f"{max_bytes // 1024 // 1024} MB.")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidScenario(f"{path.name} is not a UTF-8 text file.") from None


def load_document(path: Path) -> Any:
    text = read_text(path)
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except RecursionError:
        raise InvalidScenario(f"{path.name} is nested too deeply to be a scenario file.") from None
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        where = ""
        mark = getattr(e, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        elif isinstance(e, json.JSONDecodeError):
            where = f" at line {e.lineno}, column {e.colno}"
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        detail = getattr(e, "problem", None) or getattr(e, "msg", None) or str(e)
        raise InvalidScenario(f"{path.name} cannot be read as {kind}{where}: {detail}.") from None
    except ValueError:  # a number longer than Python converts (over 4,300 digits)
        raise InvalidScenario(f"{path.name} holds a number thousands of digits long; no value in a "
                              f"scenario is that long. Check the file.") from None


def load_scenario(path: Path) -> Scenario:
    try:
        return read_scenario(load_document(path))
    except InvalidScenario as e:
        if path.name in e.message:
            raise
        raise InvalidScenario(f"{path.name}: {e.message}") from None


def scenario_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir()
                      if p.suffix.lower() in (".yaml", ".yml", ".json") and p.is_file())
    return [path]


def day_option(value: str | None, what: str) -> date | None:
    """A date typed on the command line (YYYY-MM-DD), or None when not given."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidScenario(f"{what} must be a date written as YYYY-MM-DD, not {value!r}.") from None
