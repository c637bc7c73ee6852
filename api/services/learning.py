"""Outcome learning for a programme: train, version, adopt or refuse, roll back, describe.

The history is the programme's answered proposals (accepted, declined, expired) with the
pairs that came of them. Each is described by the score's components between the newcomer
and the sponsor as their profiles are now (sobriety counted to the day of the proposal);
the outcomes are "accepted" and "still together at 90 days". Pairs younger than 90 days,
and pairs that ended early for a reason that says nothing about the fit (a temporary term
over, a permanent sponsor found, an account closed), are censored: left out, not endings.

Every run is stored as a ``MatchModel`` version; at most one is active per programme and
``match_settings`` ranks with its weights. Only counts, date ranges and aggregate figures
are kept or shown: nothing about any single member.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select, update

from api.errors import Conflict
from api.extensions import db
from api.i18n import N_
from api.matching_inputs import profile_fields
from api.models import (
    MatchModel,
    Member,
    Program,
    Proposal,
    SponsorProfile,
    SponsorRequest,
    Sponsorship,
    utcnow,
)
from api.services.audit import audit
from matcher import MatchSettings, SeekerRequest, SponsorCandidate

RETRAIN_EVERY = timedelta(days=7)
HISTORY_SPAN = timedelta(days=3650)  # ``History.at`` counts days from ``now`` minus this
SURVIVAL_DAYS = 90  # matcher.learn.SURVIVAL_DAYS (scikit-learn loads on first training only)
# Endings that say nothing about how well the two fitted: censored, like a young pair.
NEUTRAL_ENDINGS = frozenset(("temporary_period_over", "found_permanent_sponsor", "account_closed"))
ANSWERED = ("accepted", "declined", "expired")


def fixed_weights(program: Program) -> dict[str, float]:
    """The programme's own weights (its settings), the ones a learned model must beat."""
    from matcher.types import DEFAULT_WEIGHTS

    return {**DEFAULT_WEIGHTS, **{k: float(v) for k, v in program.setting("match_weights").items()}}


def active_model(program: Program) -> MatchModel | None:
    """The version ranking the programme's sponsors now, or None (the fixed weights)."""
    return db.session.scalar(
        select(MatchModel).where(MatchModel.program_id == program.id, MatchModel.status == "active")
    )


def active_model_id(program_id: int) -> int | None:
    """The id of the active version (stored on proposals and rounds), or None."""
    return db.session.scalar(
        select(MatchModel.id).where(
            MatchModel.program_id == program_id, MatchModel.status == "active"
        )
    )


def history(program: Program, now: datetime) -> tuple:
    """The programme's answered proposals as a ``History``, and a summary (counts, dates)."""
    from matcher.learn import History, pair_components

    newcomer, sponsor = db.aliased(Member), db.aliased(Member)
    rows = db.session.execute(
        select(Proposal, SponsorRequest, newcomer, sponsor, SponsorProfile, Sponsorship)
        .join(SponsorRequest, SponsorRequest.id == Proposal.request_id)
        .join(newcomer, newcomer.id == Proposal.newcomer_id)
        .join(sponsor, sponsor.id == Proposal.sponsor_id)
        .join(SponsorProfile, SponsorProfile.member_id == sponsor.id)
        .outerjoin(Sponsorship, Sponsorship.proposal_id == Proposal.id)
        .where(Proposal.program_id == program.id, Proposal.status.in_(ANSWERED))
        .order_by(Proposal.created_at, Proposal.id)
    ).all()
    settings = MatchSettings(weights=fixed_weights(program))
    origin = now - HISTORY_SPAN  # ``History.at`` counts days from here
    out, fields = [], {}
    for prop, req, seeker_member, sponsor_member, profile, pair in rows:
        day = prop.created_at.date()
        for m in (seeker_member, sponsor_member):
            if m.id not in fields:
                fields[m.id] = profile_fields(m, now.date())
        seeker = SeekerRequest(
            request_id=str(req.uuid),
            member_id=str(seeker_member.uuid),
            program_id=str(program.uuid),
            in_person_needed=req.in_person_needed,
            **fields[seeker_member.id],
        )
        candidate = SponsorCandidate(
            member_id=str(sponsor_member.uuid),
            program_id=str(program.uuid),
            sobriety_days=(day - profile.sobriety_date).days,
            **fields[sponsor_member.id],
        )
        sims = pair_components(seeker, candidate, settings)
        at = (prop.created_at - origin).total_seconds() / 86400
        out.append((at, sims, req.in_person_needed, prop.status == "accepted", _lasted(pair, now)))
    data = History.from_rows(out)
    first = rows[0][0].created_at if rows else None
    last = rows[-1][0].created_at if rows else None
    summary = {
        "proposals": len(data),
        "accepted": int(data.accepted.sum()),
        "pairs_known": int((~np.isnan(data.lasted)).sum()),
        "pairs_lasted": int(np.nansum(data.lasted)),
        "first": first.date().isoformat() if first else None,
        "last": last.date().isoformat() if last else None,
    }
    return data, summary


def _lasted(pair: Sponsorship | None, now: datetime) -> bool | None:
    """True/False: together at 90 days or not; None: no pair, too young, or a neutral end."""
    if pair is None:
        return None
    limit = pair.started_at + timedelta(days=SURVIVAL_DAYS)
    if pair.ended_at is not None and pair.ended_at < limit:
        return None if pair.end_reason in NEUTRAL_ENDINGS else False
    return True if limit <= now else None


def train(
    program: Program,
    *,
    now: datetime | None = None,
    trigger: str = "command",
    dry_run: bool = False,
    actor: Member | None = None,
) -> dict:
    """Train the programme's outcome model and store it as a new version (unless ``dry_run``).

    An adopted version becomes active (the previous active one is retired); a refused one
    is kept with the reason, and the fixed weights (or the active version) stay.
    Returns the run as the model card describes a version.
    """
    from matcher.learn import OutcomeModel

    now = now or utcnow()
    data, summary = history(program, now)
    model = OutcomeModel(fixed_weights(program)).fit(data)
    record = record_of(model, summary, now - HISTORY_SPAN)
    if dry_run:
        db.session.rollback()
        return {"version": None, "trigger": trigger, "trained_at": now, **record} | {
            "changes": _changes(record["fixed_weights"], record["weights"])
        }
    db.session.execute(select(Program.id).where(Program.id == program.id).with_for_update())
    version = (
        db.session.scalar(
            select(func.max(MatchModel.version)).where(MatchModel.program_id == program.id)
        )
        or 0
    ) + 1
    if model.adopted_:
        db.session.execute(
            update(MatchModel)
            .where(MatchModel.program_id == program.id, MatchModel.status == "active")
            .values(status="retired", changed_at=now)
            .execution_options(synchronize_session=False)
        )
    row = MatchModel(
        program_id=program.id, version=version, trigger=trigger, created_at=now, **record
    )
    db.session.add(row)
    db.session.flush()
    audit(
        "match_model.train",
        row,
        program_id=program.id,
        actor=actor,
        details={"version": version, "status": row.status, "reason": row.reason},
    )
    db.session.commit()
    return version_dict(row)


def record_of(model, summary: dict, origin: datetime) -> dict:
    """A fitted ``OutcomeModel`` as the columns of a stored version (dates as ISO days;
    ``origin``: the moment ``History.at`` counts days from)."""
    figures = {}
    for outcome, f in model.figures_.items():
        figures[outcome] = f.as_dict() | {
            "held_out_from": (origin + timedelta(days=f.since_days)).date().isoformat()
        }
    return {
        "status": "active" if model.adopted_ else "refused",
        "weights": model.weights_,
        "fixed_weights": model.fixed_,
        "figures": figures,
        "summary": summary,
        "reason": model.reason_.code,
        "reason_args": model.reason_.args,
    }


def rollback(
    program: Program, *, to: str = "previous", actor: Member | None = None, now=None
) -> dict:
    """Switch the active version off: back to the one before it (``previous``) or to the
    programme's fixed weights (``fixed``). Returns the model card.

    Raises Conflict when the programme already ranks with its fixed weights, or when there is
    no earlier version to go back to.
    """
    now = now or utcnow()
    db.session.execute(select(Program.id).where(Program.id == program.id).with_for_update())
    current = active_model(program)
    if current is None:
        raise Conflict(N_("The programme already ranks sponsors with its fixed weights."))
    back = None
    if to == "previous":
        back = db.session.scalar(
            select(MatchModel)
            .where(
                MatchModel.program_id == program.id,
                MatchModel.status == "retired",
                MatchModel.version < current.version,
            )
            .order_by(MatchModel.version.desc())
            .limit(1)
        )
        if back is None:
            raise Conflict(
                N_("There is no earlier learned version; roll back to the fixed weights.")
            )
    current.status, current.changed_at = "rolled_back", now
    db.session.flush()  # the partial unique index: one active version at a time
    if back is not None:
        back.status, back.changed_at = "active", now
    audit(
        "match_model.rollback",
        current,
        program_id=program.id,
        actor=actor,
        details={"from": current.version, "to": back.version if back else "fixed"},
    )
    db.session.commit()
    return model_card(program, now=now)


def version_dict(row: MatchModel) -> dict:
    """One stored version, as the API and the page show it."""
    return {
        "version": row.version,
        "status": row.status,
        "trigger": row.trigger,
        "trained_at": row.created_at,
        "weights": row.weights,
        "fixed_weights": row.fixed_weights,
        "figures": row.figures,
        "summary": row.summary,
        "reason": row.reason,
        "reason_args": row.reason_args,
        "changes": _changes(row.fixed_weights, row.weights),
    }


def _changes(fixed: dict, learned: dict) -> list[dict]:
    from matcher.learn import changes

    return [
        {"group": g, "direction": d, "fixed": round(a, 2), "learned": round(b, 2)}
        for g, d, a, b in changes(fixed, learned)
    ]


def latest(program: Program) -> MatchModel | None:
    """The most recent training run of the programme (adopted or not)."""
    return db.session.scalar(
        select(MatchModel)
        .where(MatchModel.program_id == program.id)
        .order_by(MatchModel.version.desc())
        .limit(1)
    )


def model_card(program: Program, *, now: datetime | None = None) -> dict:
    """What a coordinator sees: which weights rank sponsors now, the data behind them, what
    changed from the fixed weights, the held-out figures and when it is trained next."""
    now = now or utcnow()
    active, last = active_model(program), latest(program)
    can_go_back = active is not None and (
        db.session.scalar(
            select(func.count(MatchModel.id)).where(
                MatchModel.program_id == program.id,
                MatchModel.status == "retired",
                MatchModel.version < active.version,
            )
        )
        > 0
    )
    next_at = (last.created_at + RETRAIN_EVERY) if last is not None else now
    return {
        "ranking_with": "learned" if active is not None else "fixed",
        "active": version_dict(active) if active is not None else None,
        "latest": version_dict(last) if last is not None else None,
        "fixed_weights": fixed_weights(program),
        "can_roll_back_to_previous": bool(can_go_back),
        "next_training_at": max(next_at, now),
    }


def train_due(now: datetime) -> int:
    """The weekly job: train every programme whose last run is a week old (or that has
    none). Safe to run twice: a run younger than a week is not repeated."""
    trained = 0
    due_before = now - RETRAIN_EVERY
    last_run = (
        select(MatchModel.program_id, func.max(MatchModel.created_at).label("at"))
        .group_by(MatchModel.program_id)
        .subquery()
    )
    programs = db.session.scalars(
        select(Program)
        .outerjoin(last_run, last_run.c.program_id == Program.id)
        .where((last_run.c.at.is_(None)) | (last_run.c.at <= due_before))
        .order_by(Program.id)
    ).all()
    for program in programs:
        train(program, now=now, trigger="worker")
        trained += 1
    return trained


def reason_text(run: dict) -> str:
    """Why a run was adopted or refused, in the reader's language."""
    from flask_babel import gettext as _

    args = run["reason_args"]
    if run["reason"] == "too_little_history":
        if args["what"] == "pairs":
            return _(
                "Not enough history yet: %(have)s pairs with a known 90-day outcome, "
                "need about %(need)s. The fixed weights stay.",
                have=args["have"],
                need=args["need"],
            )
        return _(
            "Not enough history yet: %(have)s answered asks, need about %(need)s. "
            "The fixed weights stay.",
            have=args["have"],
            need=args["need"],
        )
    if run["reason"] == "no_gain":
        if args["outcome"] == "accepted":
            return _(
                "It did not rank sponsors who said yes clearly better than the fixed weights "
                "on the most recent months. The fixed weights stay."
            )
        return _(
            "It did not rank pairs that lasted 90 days clearly better than the fixed weights "
            "on the most recent months. The fixed weights stay."
        )
    return _(
        "It ranked sponsors who said yes, and pairs that lasted 90 days, better than the fixed "
        "weights on the most recent months, so it is used."
    )


def change_texts(run: dict) -> list[str]:
    """What the learned weights changed compared with the fixed ones, in plain words."""
    from flask_babel import gettext as _

    from api.web.console.settings import WEIGHTS

    out = []
    for c in run["changes"]:
        name = str(WEIGHTS[c["group"]])
        if c["direction"] == "more":
            text = _(
                "“%(name)s” mattered more here than the fixed weights say "
                "(%(fixed)s → %(learned)s).",
                name=name,
                fixed=c["fixed"],
                learned=c["learned"],
            )
        else:
            text = _(
                "“%(name)s” mattered less here than the fixed weights say "
                "(%(fixed)s → %(learned)s).",
                name=name,
                fixed=c["fixed"],
                learned=c["learned"],
            )
        out.append(text)
    return out
