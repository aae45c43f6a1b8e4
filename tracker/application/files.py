"""Reading the files people hand the tracker, with clear errors: scenario files (YAML or JSON)
and FHIR files (a JSON resource or Bundle, NDJSON, or a folder of them). :func:`read_text` is the
one reader of their text (missing, too big, not UTF-8: refused in words)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from journey.errors import InvalidScenario
from journey.scenario import Scenario, read_scenario

MAX_FILE_BYTES = 5 * 1024 * 1024
#: a FHIR file given to ``journey fhir import`` is at most this big (an NDJSON file of a cohort
#: export can be large: 200 MB holds some 100,000 patients' resources)
MAX_FHIR_FILE_BYTES = 200 * 1024 * 1024
_STR_TAG = "tag:yaml.org,2002:str"


class _ScenarioLoader(yaml.SafeLoader):
    """YAML as written (contract §7.11): a date that is not on the calendar stays the text it
    was, for the entry to be refused in words; nothing else differs from ``yaml.safe_load``."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:  # 2025-02-30: the shape of a date, no such day
        return loader.construct_scalar(node)


_ScenarioLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def _check_ref_is_text(document: yaml.Node) -> None:
    """A reference a YAML reader turns into a number, a time or a yes/no (``012345`` becomes
    5349, ``12:30`` becomes 750) is refused with what was typed, never stored rewritten."""
    patient = _mapping_value(document, "patient") or _mapping_value(
        _mapping_value(document, "scenario"), "patient")
    ref = _mapping_value(patient, "ref")
    if isinstance(ref, yaml.ScalarNode) and ref.tag != _STR_TAG and ref.value.strip():
        raise InvalidScenario(
            f"The patient reference ref: {ref.value} must be written in quotes "
            f"(ref: \"{ref.value}\"): without them a YAML reader turns it into something else "
            f"(a number, a time or a yes/no), and the reference would be stored changed.")


def _load_yaml(text: str) -> Any:
    loader = _ScenarioLoader(text)
    try:
        document = loader.get_single_node()
        if document is None:
            return None
        _check_ref_is_text(document)
        return loader.construct_document(document)
    finally:
        loader.dispose()


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
        return _load_yaml(text)
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


# -- FHIR files ---------------------------------------------------------------------------------------

def load_fhir_documents(path: Path) -> list[Any]:
    """The FHIR documents of a file (a JSON resource or Bundle, or NDJSON: one resource a line)
    or of a folder of such files (``*.json``, ``*.ndjson``)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".json", ".ndjson"))
        if not files:
            raise InvalidScenario(f"No FHIR files (.json, .ndjson) in {path}.")
        return [doc for file in files for doc in _fhir_file(file)]
    return _fhir_file(path)


def _fhir_file(path: Path) -> list[Any]:
    text = read_text(path, MAX_FHIR_FILE_BYTES, "a FHIR file")
    if path.suffix.lower() == ".ndjson":
        return [_json(line, f"{path.name}, line {number}")
                for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    return [_json(text, path.name)]


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidScenario(f"{where} is not JSON (line {e.lineno}, column {e.colno}: {e.msg}).") from None
    except (RecursionError, ValueError):
        raise InvalidScenario(f"{where} cannot be read as JSON.") from None
