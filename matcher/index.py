"""SponsorIndex: the sponsor pool fitted once, then shortlists, exclusion counts and updates.

The class is put together from its parts: ``pool`` (fit, upsert, remove), ``feasible`` (the
rules over rows), ``scoring`` (the score), ``why_nobody`` (the exclusion counts); this module
adds the shortlist.
"""

from __future__ import annotations

import numpy as np

from matcher.explain import reasons_for
from matcher.feasible import Feasibility
from matcher.pool import FittedPool
from matcher.scoring import Scoring
from matcher.types import MatchSettings, SeekerRequest, ShortlistEntry
from matcher.why_nobody import WhyNobody


class SponsorIndex(FittedPool, Feasibility, Scoring, WhyNobody):
    """A sponsor pool fitted once and kept warm.

    Follows scikit-learn's conventions: ``__init__`` stores ``settings``; ``fit`` learns
    the vocabularies and the encoded pool and returns ``self``; learned attributes end in
    ``_``. ``upsert`` and ``remove`` change one sponsor without a refit. Methods raise
    ``sklearn.exceptions.NotFittedError`` before ``fit``.
    """

    def __init__(self, settings: MatchSettings | None = None):
        self.settings = settings

    def check_fitted(self):
        """Raise ``sklearn.exceptions.NotFittedError`` unless ``fit`` was called."""
        if not hasattr(self, "X_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("call fit(sponsors) before using the index")

    def shortlist(self, request: SeekerRequest, k: int = 3) -> list[ShortlistEntry]:
        """Return the top ``k`` sponsors passing every hard rule, best first, with reasons.

        Ties break by ``member_id`` so the same input always gives the same list.
        """
        idx, scores = self.scan(request)
        if idx.size == 0 or k <= 0:
            return []
        if idx.size > k:
            kth = np.partition(scores, idx.size - k)[idx.size - k]
            keep = np.flatnonzero(scores >= kth)
        else:
            keep = np.arange(idx.size)
        ranked = sorted(keep.tolist(), key=lambda i: (-scores[i], self.member_ids_[idx[i]]))[:k]
        known = self.known_tokens()
        return [
            ShortlistEntry(
                member_id=self.member_ids_[idx[i]],
                score=float(scores[i]),
                reasons=reasons_for(request, self.sponsors_[idx[i]], self.settings_, known),
            )
            for i in ranked
        ]

    def known_tokens(self) -> dict[str, set]:
        """Return each set feature group's vocabulary (the tokens the pool uses)."""
        return {b: set(v) for b, v in self.vocabulary_.items()}

    def assign(self, requests, **options):
        """Run a matching round over the pool; see ``matcher.round.assign``."""
        from matcher.round import assign

        return assign(self, requests, **options)
