"""Weekly retraining of every programme's outcome model (see api/services/learning.py)."""

from __future__ import annotations

from datetime import datetime

from api.services.learning import train_due


def retrain_models(now: datetime) -> int:
    """Train each programme whose last run is a week old; return how many were trained.

    Safe to run twice: a programme trained in the last week is skipped.
    """
    return train_due(now)
