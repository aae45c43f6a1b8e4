"""No input gets a 5xx: schemathesis against the real server (uvicorn on 127.0.0.1, the OpenAPI
document it serves), with valid and invalid requests for every operation, then every integer,
date and text parameter of the document at and past its bounds (huge numbers, 1e20, 5,000 digits,
the calendar's ends, 10,000 characters). Bounded: a few examples per operation and mode, one
request per boundary value, so it runs in well under a minute.

The operations are driven one by one with Hypothesis (``operation.as_strategy()``) rather than
through schemathesis's pytest plugin, whose fixture support does not run on this pytest."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from tests.api.live import serving
from tests.api.seed import seed
from tracker.web import create_app

EXAMPLES_PER_OPERATION = 6  # per generation mode
#: values past every bound a number can have (and some that are not numbers at all)
NUMBERS = ["-1", "0", "1", "2147483647", "2147483648", "9223372036854775807", "9223372036854775808",
           "100000000000000000000", "1e20", "-1e20", "9" * 5000, "1.5", "0x10", "²", "NaN", ""]
DATES = ["0001-01-01", "1899-12-31", "9999-12-31", "2025-02-30", "20250530", "x" * 100]
TEXTS = ["x" * 10_000, "\x00", "P-LATE' OR '1'='1", "../../etc/passwd", "%00", "é" * 300]
#: what a path parameter is, when it is not the one being pushed
PLAUSIBLE = {"ref": "P-LATE", "reminder_id": "1", "kind": "csv", "name": "navigator1"}


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # the fuzz sends wrong current passwords from one address: let the address throttle stay out
    # of the way, so that every generated request is judged on its own (the throttle has its tests)
    monkeypatch.setenv("JOURNEY_SIGNIN_CLIENT_FREE_FAILURES", "1000")
    monkeypatch.setenv("JOURNEY_SIGNIN_CLIENT_LOCK_FAILURES", "10000")
    seeded = seed(tmp_path)
    with serving(create_app(seeded.tracker, seeded.users)) as base:
        yield base, seeded


def test_no_generated_request_gets_a_server_error_from_the_live_server(live: Any) -> None:
    base, seeded = live
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    # the clinician reaches every patient operation; the admin-only ones answer 403, never 5xx
    headers = {"Authorization": f"Bearer {seeded.tokens['clinician']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: list[int] = []
    assert len(operations) >= 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def no_server_error(case: Any) -> None:
                response = case.call(base_url=base, headers=headers)
                where = f"{case.method} {case.formatted_path}"
                assert response.status_code < 500, f"{where}: {response.text[:300]}"
                statuses.append(response.status_code)

            no_server_error()
    assert len(statuses) > 4 * len(operations)
    assert any(code < 300 for code in statuses) and any(code == 422 for code in statuses)


def boundary_requests(document: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(method, path, query) for every parameter of the document pushed past its bounds."""
    requests = []
    for template, methods in document["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                kinds = {schema.get("type"), *(s.get("type") for s in schema.get("anyOf", []))}
                formats = {schema.get("format"), *(s.get("format") for s in schema.get("anyOf", []))}
                values = NUMBERS if "integer" in kinds else DATES if "date" in formats else TEXTS
                for value in values:
                    path, query = template, {}
                    if parameter["in"] == "path":
                        path = path.replace("{" + parameter["name"] + "}", quote(value, safe="") or "0")
                    elif parameter["in"] == "query":
                        query = {parameter["name"]: value}
                    else:
                        continue
                    for name, plausible in PLAUSIBLE.items():
                        path = path.replace("{" + name + "}", plausible)
                    requests.append((method.upper(), path, query))
    return requests


def test_every_parameter_past_its_bounds_is_refused_in_words_never_a_server_error(live: Any) -> None:
    base, seeded = live
    document = httpx.get(f"{base}/api/v1/openapi.json").json()
    requests = boundary_requests(document)
    assert len(requests) > 100
    problems = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {seeded.tokens['clinician']}"}) as c:
        for method, path, query in requests:
            response = c.request(method, path, params=query)
            if response.status_code >= 500:
                problems.append(f"{method} {path[:80]} {str(query)[:80]}: {response.status_code}")
            elif response.status_code == 422:
                assert response.json()["message"], path
    assert problems == []
