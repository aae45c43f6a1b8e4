"""Schemathesis against the served OpenAPI document: generated requests to every operation never
get a 5xx answer. Bounded (a few examples per operation) so it runs in well under a minute.

The operations are driven one by one with Hypothesis (``operation.as_strategy()``) rather than
through schemathesis's pytest plugin, whose fixture support does not run on this pytest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.api.seed import seed
from tracker.web import create_app

EXAMPLES_PER_OPERATION = 8


def test_no_generated_request_gets_a_server_error(tmp_path: Path) -> None:
    seeded = seed(tmp_path)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(seeded.tracker, seeded.users))
    # the clinician reaches every patient operation; the admin-only ones answer 403, never 5xx
    headers = {"Authorization": f"Bearer {seeded.tokens['clinician']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: list[int] = []
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def no_server_error(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            statuses.append(response.status_code)

        no_server_error()
    assert len(statuses) > 5 * len(operations)
    assert any(code < 300 for code in statuses)
