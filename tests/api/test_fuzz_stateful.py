"""OpenAPI links and the stateful fuzz that follows them.

The links (api/openapi_links.py) say which id in one answer feeds which later call, so
schemathesis' state machine reaches past the 404s that random UUIDs get: it opens a request,
reads its shortlist, asks, accepts, logs contacts with the ids the API handed back."""

from __future__ import annotations

import collections
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.openapi_links import LINKS, add_links


def _spec(client) -> dict:
    return client.get("/api/openapi.json").json


def test_every_link_names_a_real_operation_and_its_parameters(app, client):
    assert add_links() == []  # every source of LINKS exists
    spec = _spec(client)
    count = 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue  # path-level "parameters"
            for response in (operation.get("responses") or {}).values():
                for name, link in (response.get("links") or {}).items():
                    ref = link["operationRef"]
                    target_path, target_method = re.match(r"#/paths/(.+)/(\w+)$", ref).groups()
                    target_path = target_path.replace("~1", "/").replace("~0", "~")
                    assert target_method in spec["paths"][target_path], (name, ref)
                    wanted = set(re.findall(r"\{(\w+)\}", target_path))
                    assert wanted <= set(link["parameters"]), (method, path, name)
                    count += 1
    assert count >= 30
    assert len(LINKS) >= 15


@pytest.mark.slow
def test_the_stateful_fuzz_reaches_past_404_without_server_errors(
    app, make_program, make_member, auth
):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    statuses: dict[str, list[int]] = collections.defaultdict(list)
    errors: list[str] = []

    class Workflow(schema.as_state_machine()):
        def __init__(self):
            # Each example starts in a programme of its own, as the one before it found its
            # own: what an earlier example wrote (a request, a draft round, a contact noted a
            # minute ago) never changes what a later one can do, so Hypothesis sees the same
            # answers when it replays a path.
            super().__init__()
            program = make_program()
            member = make_member(program, "coordinator", "sponsor", "newcomer")
            make_member(program, "sponsor")  # someone to ask
            self.headers = auth(member)
            self.program_id = str(program.uuid)

        def before_call(self, case):
            if "program_id" in (case.path_parameters or {}):
                case.path_parameters["program_id"] = self.program_id
            if case.operation.label in SKIPPED:
                case.path = "/healthz"  # never revoke the token every later step uses

        def get_call_kwargs(self, case):
            return {"headers": self.headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            statuses[case.operation.label].append(response.status_code)
            if response.status_code >= 500:
                errors.append(f"{case.operation.label}: {response.status_code}")

    Workflow.run(
        settings=settings(
            max_examples=60,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )
    past_404 = [op for op, codes in statuses.items() if any(c != 404 for c in codes)]
    sent = sum(len(codes) for codes in statuses.values())
    print(  # for the CI log and docs/security.md
        f"\nstateful fuzz: {sent} requests, {len(statuses)} operations called, "
        f"{len(past_404)} answered something other than 404, {len(errors)} server errors"
    )
    assert errors == []
    assert len(past_404) >= 20, sorted(statuses)


SKIPPED = {"POST /api/v1/me/logout-everywhere", "DELETE /api/v1/me/account"}
