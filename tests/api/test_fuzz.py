"""Every API operation, fed generated input from its own OpenAPI document: never a 500.

schemathesis reads /api/openapi.json and sends valid and invalid bodies, queries and paths
as a programme's coordinator (who is also a sponsor and a newcomer there), with the
programme's real id in every ``program_id``. Any answer of 500 or more fails the test."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

EXAMPLES_PER_OPERATION = 12


@pytest.mark.slow  # 12 s on an idle machine, near a minute on a busy one
def test_no_operation_answers_a_server_error(app, make_program, make_member, auth):
    program = make_program()
    headers = auth(make_member(program, "coordinator", "sponsor", "newcomer"))
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        # It needs no input and revokes the token every later call would use: tested on its
        # own (tests/api/test_trust_sessions.py).
        if result.ok().label != "POST /api/v1/me/logout-everywhere"
    ]
    assert len(operations) >= 30

    failures, statuses = [], []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def fuzz(case):
            if "program_id" in (case.path_parameters or {}):
                case.path_parameters["program_id"] = str(program.uuid)
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            statuses.append(response.status_code)

        try:
            fuzz()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert failures == [], "\n\n".join(failures)
    assert len(statuses) >= 5 * len(operations)  # the generator really ran
    assert any(code < 300 for code in statuses) and 422 in statuses
