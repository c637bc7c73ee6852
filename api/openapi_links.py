"""OpenAPI links: which id in one answer feeds which later call.

They document the workflows (open a request → its shortlist → ask → accept → log a contact)
and let a stateful fuzzer (schemathesis) follow real ids instead of guessing UUIDs that answer
404. Each entry: (method, path, status) of the source → link name → (method, path of the
target, its parameters as OpenAPI runtime expressions).
"""

from __future__ import annotations

from api.extensions import api

V = "/api/v1"
BODY_ID = "$response.body#/id"
FIRST_ID = "$response.body#/0/id"
PROGRAM = "$request.path.program_id"
REQUEST = "$request.path.request_id"
PROPOSAL = "$request.path.proposal_id"
SPONSORSHIP = "$request.path.sponsorship_id"

_REQUEST_TARGETS = {
    "GetRequest": ("get", f"{V}/requests/{{request_id}}"),
    "Shortlist": ("get", f"{V}/requests/{{request_id}}/shortlist"),
    "RequestProposals": ("get", f"{V}/requests/{{request_id}}/proposals"),
    "Ask": ("post", f"{V}/requests/{{request_id}}/proposals"),
    "WithdrawRequest": ("post", f"{V}/requests/{{request_id}}/withdraw"),
}
_PROPOSAL_TARGETS = {
    "GetProposal": ("get", f"{V}/proposals/{{proposal_id}}"),
    "Accept": ("post", f"{V}/proposals/{{proposal_id}}/accept"),
    "Decline": ("post", f"{V}/proposals/{{proposal_id}}/decline"),
    "WithdrawProposal": ("post", f"{V}/proposals/{{proposal_id}}/withdraw"),
}
_SPONSORSHIP_TARGETS = {
    "GetSponsorship": ("get", f"{V}/sponsorships/{{sponsorship_id}}"),
    "Contacts": ("get", f"{V}/sponsorships/{{sponsorship_id}}/contacts"),
    "LogContact": ("post", f"{V}/sponsorships/{{sponsorship_id}}/contacts"),
    "Cadence": ("patch", f"{V}/sponsorships/{{sponsorship_id}}/cadence"),
    "Convert": ("post", f"{V}/sponsorships/{{sponsorship_id}}/convert"),
    "End": ("post", f"{V}/sponsorships/{{sponsorship_id}}/end"),
}


def _each(targets: dict, param: str, expression: str, **extra) -> dict:
    return {
        name: (method, path, {param: expression, **extra})
        for name, (method, path) in targets.items()
    }


LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict]]] = {
    ("post", f"{V}/programs/{{program_id}}/requests", "201"): _each(
        _REQUEST_TARGETS, "request_id", BODY_ID
    ),
    ("get", f"{V}/me/requests", "200"): _each(_REQUEST_TARGETS, "request_id", FIRST_ID),
    ("post", f"{V}/requests/{{request_id}}/proposals", "201"): _each(
        _PROPOSAL_TARGETS, "proposal_id", BODY_ID
    ),
    ("get", f"{V}/requests/{{request_id}}/proposals", "200"): _each(
        _PROPOSAL_TARGETS, "proposal_id", FIRST_ID
    ),
    ("get", f"{V}/me/proposals", "200"): _each(_PROPOSAL_TARGETS, "proposal_id", FIRST_ID),
    ("post", f"{V}/proposals/{{proposal_id}}/accept", "201"): _each(
        _SPONSORSHIP_TARGETS, "sponsorship_id", BODY_ID
    ),
    ("get", f"{V}/me/sponsorships", "200"): _each(_SPONSORSHIP_TARGETS, "sponsorship_id", FIRST_ID),
    ("post", f"{V}/sponsorships/{{sponsorship_id}}/contacts", "201"): {
        "Confirm": ("post", f"{V}/contacts/{{contact_id}}/confirm", {"contact_id": BODY_ID}),
    },
    ("get", f"{V}/sponsorships/{{sponsorship_id}}/contacts", "200"): {
        "Confirm": ("post", f"{V}/contacts/{{contact_id}}/confirm", {"contact_id": FIRST_ID}),
    },
    ("get", f"{V}/me/notifications", "200"): {
        "Read": (
            "post",
            f"{V}/notifications/{{notification_id}}/read",
            {"notification_id": FIRST_ID},
        ),
    },
    ("post", f"{V}/auth/tokens", "201"): {
        "Revoke": ("delete", f"{V}/auth/tokens/{{token_id}}", {"token_id": BODY_ID}),
    },
    ("get", f"{V}/me", "200"): {
        "GetAccount": ("get", f"{V}/accounts/{{member_id}}", {"member_id": BODY_ID}),
    },
    ("get", f"{V}/me/blocks", "200"): {
        "Unblock": (
            "delete",
            f"{V}/me/blocks/{{member_id}}",
            {"member_id": "$response.body#/0/member/id"},
        ),
    },
    ("get", f"{V}/programs/{{program_id}}/members", "200"): {
        name: (method, path, {"program_id": PROGRAM, "member_id": FIRST_ID})
        for name, (method, path) in {
            "GetMember": ("get", f"{V}/programs/{{program_id}}/members/{{member_id}}"),
            "Pause": ("post", f"{V}/programs/{{program_id}}/members/{{member_id}}/pause"),
            "Unpause": ("post", f"{V}/programs/{{program_id}}/members/{{member_id}}/unpause"),
            "Roles": ("put", f"{V}/programs/{{program_id}}/members/{{member_id}}/roles"),
        }.items()
    },
    ("get", f"{V}/programs/{{program_id}}/escalations", "200"): {
        name: (method, path, {"program_id": PROGRAM, "flag_id": FIRST_ID})
        for name, (method, path) in {
            "Acknowledge": (
                "post",
                f"{V}/programs/{{program_id}}/escalations/{{flag_id}}/acknowledge",
            ),
            "Resolve": ("post", f"{V}/programs/{{program_id}}/escalations/{{flag_id}}/resolve"),
            "CheckIn": ("post", f"{V}/programs/{{program_id}}/escalations/{{flag_id}}/check-in"),
        }.items()
    },
    ("post", f"{V}/programs/{{program_id}}/webhooks", "201"): {
        "Remove": (
            "delete",
            f"{V}/programs/{{program_id}}/webhooks/{{webhook_id}}",
            {"program_id": PROGRAM, "webhook_id": BODY_ID},
        ),
    },
    ("post", f"{V}/programs/{{program_id}}/rounds", "201"): {
        name: (method, path, {"program_id": PROGRAM, "round_id": BODY_ID})
        for name, (method, path) in {
            "GetRound": ("get", f"{V}/programs/{{program_id}}/rounds/{{round_id}}"),
            "Publish": ("post", f"{V}/programs/{{program_id}}/rounds/{{round_id}}/publish"),
        }.items()
    },
}


def _pointer(method: str, path: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def add_links() -> list[str]:
    """Put LINKS into the spec; returns the sources it could not find (a renamed route)."""
    paths = api.spec._paths
    missing = []
    for (method, path, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            missing.append(f"{method.upper()} {path} {status}")
            continue
        response["links"] = {
            name: {"operationRef": _pointer(t_method, t_path), "parameters": params}
            for name, (t_method, t_path, params) in links.items()
            if t_method in paths.get(t_path, {})
        }
    return missing
