"""The authorization matrix, generated from the app itself: every operation of the OpenAPI
document and every web route of the URL map × six callers (owner, other newcomer, other
sponsor, coordinator here, coordinator elsewhere, anonymous) × {own object, foreign object}.

Each operation has a case below saying who may use it; a route without a case fails
``test_every_route_has_a_case``, so the matrix grows with the app. A refused call must answer
401 (API, anonymous), a redirect to the login page (pages, anonymous) or 404 (everyone else:
a foreign object is invisible, never "forbidden"), with no one's name in the body. An allowed
call must get past authorization (anything but 401/403/404, a login redirect or a 5xx).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import delete

from api.extensions import db, limiter
from api.models import utcnow
from tests.api.authz_world import CALLERS, OBJECTS, build_world
from tests.factories import PASSWORD

PUBLIC, MEMBER, OWNER, COORDINATOR = "public", "member", "owner", "coordinator"
OWNER_OR_COORDINATOR, NOBODY = "owner+coordinator", "nobody"
NEWCOMERS, SPONSORS, COORDINATORS = "newcomers", "sponsors", "coordinators"
NEWCOMERS_HERE = "newcomers here"  # newcomers of the programme in the path
MEMBERS_HERE = "members here"  # anyone with a role in the programme in the path
OBJECTLESS = {PUBLIC, MEMBER, NEWCOMERS, SPONSORS, COORDINATORS}


@dataclass(frozen=True)
class Case:
    allow: str
    owner: str = "newcomer"  # which side of the pair the "owner" caller is
    member: str = "member_id"  # which member a {member_id} names


N, S = "newcomer", "sponsor"
API = "/api/v1"
CASES: dict[str, Case] = {
    # --- API ---------------------------------------------------------------------------
    f"GET {API}/requests/{{request_id}}/shortlist": Case(OWNER),
    f"GET {API}/requests/{{request_id}}/proposals": Case(OWNER),
    f"POST {API}/requests/{{request_id}}/proposals": Case(OWNER),
    f"GET {API}/me/proposals": Case(MEMBER),
    f"GET {API}/proposals/{{proposal_id}}": Case(OWNER),
    f"POST {API}/proposals/{{proposal_id}}/accept": Case(OWNER, S),
    f"POST {API}/proposals/{{proposal_id}}/decline": Case(OWNER, S),
    f"POST {API}/proposals/{{proposal_id}}/withdraw": Case(OWNER),
    f"GET {API}/me/sponsorships": Case(MEMBER),
    f"GET {API}/sponsorships/{{sponsorship_id}}": Case(OWNER),
    f"POST {API}/sponsorships/{{sponsorship_id}}/end": Case(OWNER),
    f"POST {API}/sponsorships/{{sponsorship_id}}/convert": Case(OWNER),
    f"POST {API}/programs/{{program_id}}/rounds": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/rounds/{{round_id}}": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/rounds/{{round_id}}/pairs/{{pair_id}}/remove": Case(
        COORDINATOR
    ),
    f"GET {API}/programs/{{program_id}}/rounds/{{round_id}}/pairs/{{pair_id}}/alternatives": Case(
        COORDINATOR
    ),
    f"POST {API}/programs/{{program_id}}/rounds/{{round_id}}/pairs/{{pair_id}}/replace": Case(
        COORDINATOR
    ),
    f"POST {API}/programs/{{program_id}}/rounds/{{round_id}}/publish": Case(COORDINATOR),
    f"GET {API}/me/blocks": Case(MEMBER),
    f"POST {API}/me/blocks": Case(OWNER),  # the body names the owner's sponsor
    f"DELETE {API}/me/blocks/{{member_id}}": Case(OWNER, member="blocked_member_id"),
    f"POST {API}/auth/signup": Case(PUBLIC),
    f"POST {API}/auth/verify": Case(PUBLIC),
    f"POST {API}/auth/tokens": Case(PUBLIC),
    f"POST {API}/auth/password-link": Case(PUBLIC),
    f"POST {API}/auth/password": Case(PUBLIC),
    f"DELETE {API}/auth/tokens/{{token_id}}": Case(OWNER),
    f"GET {API}/me": Case(MEMBER),
    f"POST {API}/me/memberships": Case(MEMBER),
    f"GET {API}/accounts/{{member_id}}": Case(OWNER, member="account_id"),
    f"POST {API}/me/logout-everywhere": Case(MEMBER),
    f"POST {API}/me/password": Case(MEMBER),
    f"GET {API}/me/preferences": Case(MEMBER),
    f"PATCH {API}/me/preferences": Case(MEMBER),
    f"GET {API}/me/data": Case(MEMBER),
    f"DELETE {API}/me/account": Case(MEMBER),
    f"POST {API}/programs": Case(NOBODY),  # installation admins only
    f"GET {API}/programs/{{program_id}}": Case(MEMBERS_HERE),
    f"PATCH {API}/programs/{{program_id}}": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/settings": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/join-code": Case(COORDINATOR),
    f"GET {API}/me/profile": Case(MEMBER),
    f"PATCH {API}/me/profile": Case(MEMBER),
    f"GET {API}/me/sponsor-profile": Case(SPONSORS),
    f"PUT {API}/me/sponsor-profile": Case(SPONSORS, S),
    f"PATCH {API}/me/sponsor-profile": Case(SPONSORS),
    f"POST {API}/me/sponsor-profile/confirm-availability": Case(SPONSORS),
    f"POST {API}/me/sponsor-profile/relapse": Case(SPONSORS),
    f"POST {API}/programs/{{program_id}}/requests": Case(NEWCOMERS_HERE),
    f"GET {API}/me/requests": Case(MEMBER),
    f"GET {API}/requests/{{request_id}}": Case(OWNER_OR_COORDINATOR),
    f"POST {API}/requests/{{request_id}}/withdraw": Case(OWNER),
    f"GET {API}/programs/{{program_id}}/members": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/members/{{member_id}}": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/members/{{member_id}}/pause": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/members/{{member_id}}/unpause": Case(COORDINATOR),
    f"PUT {API}/programs/{{program_id}}/members/{{member_id}}/roles": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/invitations": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/import/template.csv": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/import": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/export.csv": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/audit": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/audit.csv": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/reports/{{name}}": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/escalations": Case(COORDINATOR),
    f"GET {API}/programs/{{program_id}}/model-card": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/model-card/rollback": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/escalations/{{flag_id}}/acknowledge": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/escalations/{{flag_id}}/resolve": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/escalations/{{flag_id}}/check-in": Case(COORDINATOR),
    f"GET {API}/sponsorships/{{sponsorship_id}}/contacts": Case(OWNER_OR_COORDINATOR),
    f"POST {API}/sponsorships/{{sponsorship_id}}/contacts": Case(OWNER),
    f"POST {API}/contacts/{{contact_id}}/confirm": Case(OWNER, S),
    f"PATCH {API}/sponsorships/{{sponsorship_id}}/cadence": Case(OWNER),
    f"GET {API}/me/notifications": Case(MEMBER),
    f"POST {API}/notifications/{{notification_id}}/read": Case(OWNER),
    f"POST {API}/me/availability-checks/{{check_id}}/answer": Case(OWNER, S),
    f"GET {API}/me/checkins": Case(MEMBER),
    f"POST {API}/me/checkins": Case(MEMBER),
    f"POST {API}/me/checkins/{{checkin_id}}/tell-sponsor": Case(OWNER),
    f"GET {API}/me/checkin-choices": Case(MEMBER),
    f"PATCH {API}/me/checkin-choices": Case(MEMBER),
    f"GET {API}/sponsorships/{{sponsorship_id}}/checkins": Case(OWNER, S),
    f"GET {API}/programs/{{program_id}}/webhooks": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/webhooks": Case(COORDINATOR),
    f"DELETE {API}/programs/{{program_id}}/webhooks/{{webhook_id}}": Case(COORDINATOR),
    f"POST {API}/programs/{{program_id}}/webhooks/{{webhook_id}}/test": Case(COORDINATOR),
    f"GET {API}/me/milestones": Case(MEMBER),
    f"PUT {API}/me/milestones": Case(MEMBER),
    f"GET {API}/me/resources": Case(MEMBER),
    f"GET {API}/programs/{{program_id}}/resources": Case(MEMBERS_HERE),
    f"POST {API}/programs/{{program_id}}/resources": Case(COORDINATOR),
    f"DELETE {API}/programs/{{program_id}}/resources/{{resource_id}}": Case(COORDINATOR),
    f"POST {API}/sponsorships/{{sponsorship_id}}/resources": Case(OWNER, S),
    # --- pages and probes ----------------------------------------------------------------
    "GET /static/<path:filename>": Case(PUBLIC),
    "GET /metrics": Case(PUBLIC),  # its own bearer token (SPONSOR_METRICS_TOKEN), tested there
    "GET /api/openapi.json": Case(PUBLIC),
    "GET /healthz": Case(PUBLIC),
    "GET /readyz": Case(PUBLIC),
    "GET /readyz/scheduler": Case(PUBLIC),
    "GET /docs/": Case(PUBLIC),
    "GET /docs": Case(PUBLIC),
    "GET /docs/assets/<path:filename>": Case(PUBLIC),
    "GET /": Case(PUBLIC),
    "POST /language": Case(PUBLIC),
    "GET /offline": Case(PUBLIC),
    "GET /sw.js": Case(PUBLIC),
    "GET /login": Case(PUBLIC),
    "POST /login": Case(PUBLIC),
    "POST /logout": Case(PUBLIC),
    "GET /forgot-password": Case(PUBLIC),
    "POST /forgot-password": Case(PUBLIC),
    "GET /reset-password/<token>": Case(PUBLIC),
    "POST /reset-password/<token>": Case(PUBLIC),
    "GET /programs/<uuid:program_id>/dashboard": Case(COORDINATOR),
    "GET /programs/<uuid:program_id>/dashboard/<string:name>.csv": Case(COORDINATOR),
    "GET /programs/<uuid:program_id>/escalations": Case(COORDINATOR),
    "GET /programs/<uuid:program_id>/escalations/<uuid:flag_id>/"
    "<any(acknowledge, resolve, 'check-in'):action>": Case(COORDINATOR),
    "POST /programs/<uuid:program_id>/escalations/<uuid:flag_id>/"
    "<any(acknowledge, resolve, 'check-in'):action>": Case(COORDINATOR),
    "GET /contact-link/<token>": Case(PUBLIC),
    "GET /l/<token>": Case(PUBLIC),
    "POST /l/<token>": Case(PUBLIC),
    "POST /notifications/<uuid:note_id>/open": Case(OWNER),
    "POST /contact-link/<token>": Case(PUBLIC),
    "GET /sponsor": Case(NEWCOMERS),
    "POST /sponsor/request": Case(NEWCOMERS),
    "POST /sponsor/ask": Case(NEWCOMERS),
    "POST /sponsor/withdraw": Case(NEWCOMERS),
    "POST /sponsor/ask-someone-else": Case(NEWCOMERS),
    "GET /sponsor/mine": Case(NEWCOMERS),
    "GET /verify/<token>": Case(PUBLIC),
    "GET /join": Case(PUBLIC),
    "POST /join": Case(PUBLIC),
    "GET /join/<code>": Case(PUBLIC),
    "POST /join/<code>": Case(PUBLIC),
    "GET /check-your-email": Case(PUBLIC),
    "POST /check-your-email": Case(PUBLIC),
    "GET /profile/about-you": Case(MEMBER),
    "POST /profile/about-you": Case(MEMBER),
    "GET /profile/talking": Case(MEMBER),
    "POST /profile/talking": Case(MEMBER),
    "GET /profile/times": Case(MEMBER),
    "POST /profile/times": Case(MEMBER),
    "GET /account": Case(MEMBER),
    "POST /account/time-zone": Case(MEMBER),
    "GET /notifications": Case(MEMBER),
    "POST /notifications/read": Case(MEMBER),
    "POST /account/password": Case(MEMBER),
    "POST /account/emails": Case(MEMBER),
    "POST /account/tags": Case(MEMBER),
    "POST /account/logout-everywhere": Case(PUBLIC),  # as POST /logout: ends to /login
    "GET /account/my-data": Case(MEMBER),
    "GET /account/my-data/download": Case(MEMBER),
    "GET /account/delete": Case(MEMBER),
    "POST /account/delete": Case(MEMBER),
    "GET /goodbye": Case(PUBLIC),
    "GET /coordinator": Case(COORDINATORS),
    "GET /coordinator/<uuid:program_id>": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/import": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/import/preview": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/import": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/import/template.csv": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/export.csv": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/invite": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/invite": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/members": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/members/<uuid:member_id>": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/members/<uuid:member_id>/pause": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/members/<uuid:member_id>/unpause": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/members/<uuid:member_id>/roles": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/rounds": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/rounds": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/rounds/<uuid:round_id>": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>": Case(
        COORDINATOR
    ),
    "GET /coordinator/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>/remove": Case(
        COORDINATOR
    ),
    "POST /coordinator/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>/remove": Case(
        COORDINATOR
    ),
    "POST /coordinator/<uuid:program_id>/rounds/<uuid:round_id>/pairs/<uuid:pair_id>/replace": (
        Case(COORDINATOR)
    ),
    "GET /coordinator/<uuid:program_id>/rounds/<uuid:round_id>/publish": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/rounds/<uuid:round_id>/publish": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/settings": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/log": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/log.csv": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/poster": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/join-code": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/join-code": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/model": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/model/rollback": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/webhooks": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/webhooks": Case(COORDINATOR),
    "GET /coordinator/<uuid:program_id>/webhooks/<uuid:webhook_id>/delete": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/webhooks/<uuid:webhook_id>/delete": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/webhooks/<uuid:webhook_id>/test": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/settings": Case(COORDINATOR),
    "GET /invitation/<token>": Case(PUBLIC),
    "POST /invitation/<token>": Case(PUBLIC),
    "POST /invitation/<token>/join": Case(PUBLIC),
    "GET /sponsoring": Case(SPONSORS, S),
    "POST /sponsoring": Case(SPONSORS, S),
    "POST /sponsoring/pause": Case(SPONSORS, S),
    "POST /sponsoring/resume": Case(SPONSORS, S),
    "GET /sponsoring/relapse": Case(SPONSORS, S),
    "POST /sponsoring/relapse": Case(SPONSORS, S),
    "GET /asks": Case(SPONSORS, S),
    "POST /asks/<uuid:proposal_id>/accept": Case(OWNER, S),
    "GET /asks/<uuid:proposal_id>/decline": Case(OWNER, S),
    "POST /asks/<uuid:proposal_id>/decline": Case(OWNER, S),
    "GET /sponsees": Case(SPONSORS, S),
    "GET /still-available": Case(SPONSORS, S),
    "POST /still-available": Case(SPONSORS, S),
    "GET /pairs/<uuid:pair_id>": Case(OWNER),
    "POST /pairs/<uuid:pair_id>/contacts": Case(OWNER),
    "POST /pairs/contacts/<uuid:contact_id>/confirm": Case(OWNER, S),
    "GET /pairs/<uuid:pair_id>/end": Case(OWNER),
    "POST /pairs/<uuid:pair_id>/end": Case(OWNER),
    "GET /pairs/<uuid:pair_id>/convert": Case(OWNER),
    "POST /pairs/<uuid:pair_id>/convert": Case(OWNER),
    "POST /pairs/<uuid:pair_id>/cadence": Case(OWNER),
    "GET /pairs/<uuid:pair_id>/block": Case(OWNER),
    "POST /pairs/<uuid:pair_id>/block": Case(OWNER),
    "POST /pairs/<uuid:pair_id>/unblock": Case(OWNER),
    "POST /pairs/<uuid:pair_id>/share": Case(OWNER, S),
    "GET /milestones": Case(MEMBER),
    "POST /milestones": Case(MEMBER),
    "GET /milestones/fresh-start": Case(MEMBER),
    "POST /milestones/share-again": Case(MEMBER),
    "GET /resources": Case(MEMBER),
    "GET /coordinator/<uuid:program_id>/resources": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/resources": Case(COORDINATOR),
    "POST /coordinator/<uuid:program_id>/resources/<uuid:resource_id>/remove": Case(COORDINATOR),
    "GET /checkin": Case(MEMBER),
    "POST /checkin": Case(MEMBER),
    "GET /checkin/done": Case(MEMBER),
    "POST /checkin/<uuid:checkin_id>/tell-sponsor": Case(OWNER),
    "GET /checkin/choices": Case(MEMBER),
    "POST /checkin/choices": Case(MEMBER),
}


def _bodies(world, objects) -> dict[str, object]:
    """A valid body for each operation that needs one, so refusals are about who asks, not
    about what they sent."""
    now = utcnow()
    return {
        f"POST {API}/requests/{{request_id}}/proposals": {"sponsor_id": objects.ids["member_id"]},
        f"POST {API}/proposals/{{proposal_id}}/decline": {"reason": "other"},
        f"POST {API}/sponsorships/{{sponsorship_id}}/end": {"reason": "moved_on"},
        f"POST {API}/programs/{{program_id}}/rounds/{{round_id}}/pairs/{{pair_id}}/remove": {
            "reason": "not this one"
        },
        f"POST {API}/programs/{{program_id}}/rounds/{{round_id}}/pairs/{{pair_id}}/replace": {
            "sponsor_id": str(world.people["other_sponsor"].uuid),
            "reason": "a better fit",
        },
        f"POST {API}/me/blocks": {"member_id": objects.ids["member_id"]},
        f"POST {API}/auth/signup": {
            "join_code": objects.program.join_code,
            "email": "matrix.new@example.test",
            "password": PASSWORD,
            "display_name": "Mo T.",
        },
        f"POST {API}/auth/verify": {"token": "x" * 40},
        f"POST {API}/auth/tokens": {"email": "nobody@example.test", "password": "wrong one"},
        f"POST {API}/auth/password-link": {"email": "nobody@example.test"},
        f"POST {API}/auth/password": {"token": "x" * 40, "password": "y" * 12},
        f"POST {API}/me/memberships": {"join_code": objects.program.join_code},
        f"POST {API}/me/password": {"current_password": PASSWORD, "new_password": "z" * 12},
        f"PATCH {API}/me/preferences": {"minimal_emails": True},
        f"DELETE {API}/me/account": {"password": PASSWORD},
        f"POST {API}/programs": {"name": "New one", "fellowships": ["AA"]},
        f"PATCH {API}/programs/{{program_id}}": {"name": "Renamed"},
        f"PATCH {API}/me/profile": {"time_zone": "UTC"},
        f"PUT {API}/me/sponsor-profile": {"sobriety_date": "2015-01-01"},
        f"PATCH {API}/me/sponsor-profile": {"capacity": 3},
        f"POST {API}/programs/{{program_id}}/requests": {},
        f"POST {API}/programs/{{program_id}}/members/{{member_id}}/pause": {"reason": "a break"},
        f"POST {API}/programs/{{program_id}}/members/{{member_id}}/unpause": {"reason": "back"},
        f"PUT {API}/programs/{{program_id}}/members/{{member_id}}/roles": {
            "roles": ["sponsor"],
            "reason": "asked to",
        },
        f"POST {API}/programs/{{program_id}}/invitations": {"email": "invitee@example.test"},
        f"POST {API}/programs/{{program_id}}/escalations/{{flag_id}}/acknowledge": {
            "action_taken": "called them"
        },
        f"POST {API}/programs/{{program_id}}/escalations/{{flag_id}}/resolve": {},
        f"POST {API}/programs/{{program_id}}/escalations/{{flag_id}}/check-in": {
            "message": "How are you both?"
        },
        f"POST {API}/sponsorships/{{sponsorship_id}}/contacts": {
            "kind": "call",
            "occurred_at": (now - timedelta(hours=1)).isoformat(),
        },
        f"PATCH {API}/sponsorships/{{sponsorship_id}}/cadence": {"cadence_days": 3},
        f"POST {API}/me/availability-checks/{{check_id}}/answer": {"available": True},
        f"POST {API}/me/checkins": {"mood": 3, "cravings": "none", "meeting": True},
        f"PATCH {API}/me/checkin-choices": {"reminders": True},
        f"POST {API}/programs/{{program_id}}/webhooks": {"url": "https://93.184.216.34/hook"},
        f"PUT {API}/me/milestones": {"sobriety_date": "2020-01-01"},
        f"POST {API}/programs/{{program_id}}/resources": {
            "title": "Meetings",
            "kind": "meetings",
            "url": "https://example.org/meetings",
        },
        f"POST {API}/sponsorships/{{sponsorship_id}}/resources": {
            "resource_id": objects.ids["resource_id"]
        },
    }


def _operations(app) -> list[str]:
    """Every API operation in the OpenAPI document and every other route of the URL map."""
    from api.extensions import api

    ops = []
    with app.app_context():
        paths = api.spec.to_dict()["paths"]
    for path, item in paths.items():
        for method in item:
            if method in ("get", "post", "put", "patch", "delete"):
                ops.append(f"{method.upper()} {path}")
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            ops.append(f"{method} {rule.rule}")
    return sorted(set(ops))


def test_every_route_has_a_case(app):
    """A new route or API operation needs a line in CASES (and a body in _bodies if it
    takes one): the matrix cannot silently skip it."""
    ops = set(_operations(app))
    missing = sorted(ops - set(CASES))
    stale = sorted(set(CASES) - ops)
    assert missing == [], f"routes without an authorization case: {missing}"
    assert stale == [], f"cases for routes that no longer exist: {stale}"


def _path(op: str, objects) -> str:
    """The operation's path with its parameters naming ``objects``."""
    case = CASES[op]
    path = op.split(" ", 1)[1]
    ids = dict(objects.ids)
    ids["member_id"] = ids[case.member]
    ids["note_id"] = ids["notification_id"]
    ids["name"] = "queue"
    ids["filename"] = "app.css"
    ids["action"] = "acknowledge"
    ids["token"] = "x" * 40
    if "/rounds/" in path:
        ids["pair_id"] = ids["round_pair_id"]

    def fill(match) -> str:
        name = match.group(1).split(":")[-1]
        return ids[name]

    path = re.sub(r"\{(\w+)\}", fill, path)
    path = re.sub(r"<(?:[^:>]+\([^>]*\):|[^:>]+:)?(\w+)>", fill, path)
    return path


def _allowed(case: Case, caller: str, obj: str) -> bool:
    if case.allow == PUBLIC:
        return True
    if caller == "anonymous":
        return False
    if case.allow in OBJECTLESS:
        return {
            MEMBER: True,
            NEWCOMERS: caller in ("owner", "other_newcomer") and case.owner == N,
            SPONSORS: caller == "other_sponsor" or (caller == "owner" and case.owner == S),
            COORDINATORS: caller.startswith("coordinator"),
        }[case.allow]
    if obj == "foreign":
        return False
    if case.allow == NEWCOMERS_HERE:
        return caller in ("owner", "other_newcomer") and case.owner == N
    if case.allow == MEMBERS_HERE:
        return caller != "coordinator_elsewhere"
    return {
        OWNER: caller == "owner",
        COORDINATOR: caller == "coordinator_here",
        OWNER_OR_COORDINATOR: caller in ("owner", "coordinator_here"),
        NOBODY: False,
    }[case.allow]


@dataclass
class Cell:
    op: str
    caller: str
    obj: str
    status: int
    location: str
    body: str
    allowed: bool
    public: bool = False

    @property
    def ok(self) -> bool:
        login = self.status in (301, 302, 303) and "/login" in self.location
        if self.public:  # anyone may call; a bad token or password is the route's own answer
            return self.status != 403 and (self.status < 500 or self.op.startswith("GET /readyz"))
        if self.status >= 500:
            return False
        if self.allowed:
            return self.status not in (401, 403, 404) and not login
        if self.caller == "anonymous":
            return self.status == 401 or login
        return self.status == 404


def _call(app, world, op: str, caller: str, obj: str) -> Cell:
    objects = world.own if obj == "own" else world.foreign
    method = op.split(" ", 1)[0]
    path = _path(op, objects)
    case = CASES[op]
    who = {"owner": case.owner}.get(caller, caller)
    client = app.test_client()
    headers = {}
    if caller != "anonymous":
        member = world.people[who]
        if op.split(" ", 1)[1].startswith(API):
            headers["Authorization"] = f"Bearer {world.bearer[who]}"
        else:
            with client.session_transaction() as session:
                session["_user_id"] = member.get_id()
                session["_fresh"] = True
    body = _bodies(world, objects).get(op)
    kwargs = {"json": body} if body is not None and method != "GET" else {}
    res = client.open(path, method=method, headers=headers, **kwargs)
    body = res.get_data(as_text=True)[:4000]
    res.close()  # static files are streamed from an open file
    return Cell(
        op,
        caller,
        obj,
        res.status_code,
        res.headers.get("Location", ""),
        body,
        _allowed(case, caller, obj),
        case.allow == PUBLIC,
    )


def _fresh_world(app):
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.commit()
        limiter.reset()
        world = build_world()
        # Read what the calls need while the session is open.
        for member in world.people.values():
            member.get_id()
        _ = [o.program.join_code for o in (world.own, world.foreign)]
        db.session.expunge_all()
        return world


def run_operation(app, op: str) -> list[Cell]:
    """All twelve cells of one operation: refusals first on one world (they must change
    nothing), then each allowed call on a fresh world of its own."""
    world = _fresh_world(app)
    cells = []
    plan = [(c, o) for o in OBJECTS for c in CALLERS]
    for caller, obj in plan:
        if not _allowed(CASES[op], caller, obj):
            cells.append(_call(app, world, op, caller, obj))
    for caller, obj in plan:
        if _allowed(CASES[op], caller, obj):
            world = _fresh_world(app)
            cells.append(_call(app, world, op, caller, obj))
    return cells


def pytest_generate_tests(metafunc):
    if "op" in metafunc.fixturenames:
        metafunc.parametrize("op", sorted(CASES))


@pytest.mark.slow
def test_authorization_cell(app, op):
    """No app context is held here: each call runs in its own, as real requests do."""
    if op not in _operations(app):
        pytest.skip("route gone: test_every_route_has_a_case reports it")
    cells = run_operation(app, op)
    wrong = [(c.caller, c.obj, c.status, c.location) for c in cells if not c.ok]
    assert wrong == [], f"{op}: {wrong}"
    names = ("Nora A.", "Sol A.", "Nora C.", "Sol C.")
    leaks = [(c.caller, c.obj) for c in cells if not c.allowed and any(n in c.body for n in names)]
    assert leaks == [], f"{op}: a refusal names someone: {leaks}"
