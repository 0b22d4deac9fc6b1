"""Matching customers to tutors: who teaches what, who has room, who is good.

A mixin of the Engine (engine.py): reads the engine's customers `c`, tutors `t` and `avail`.
"""
from __future__ import annotations

import numpy as np

from sources.simulation.world.rhythms import DAY

ONBOARDING = 14 * DAY  # a hired tutor takes customers after onboarding


class MatchingMixin:

    def _candidates(self, t: int):
        """Tutors open to new customers, per subject, as one sorted key array (subject + cumulative
        share of the subject's weight): one searchsorted assigns any mix of subjects."""
        key = int(t // DAY)
        if key != self._cand_key:
            c = self.c
            live = (c.status != 2) & (c.tutor >= 0)
            load = np.bincount(c.tutor[live], minlength=self.n_tutors)
            ok = (self.t["hired_t"] + ONBOARDING <= t) & (self.t["left_t"] > t + DAY)
            w = self.avail.sum(axis=1) * np.exp(0.25 * self.t["quality"]) / (1.0 + load / 8.0) * ok
            tutors, keys, subj = [], [], []
            for s in range(16):
                teach = np.flatnonzero(((self.t["mask"] >> s) & 1).astype(bool) & (w > 0))
                if teach.size:
                    cw = np.cumsum(w[teach])
                    tutors.append(teach)
                    keys.append(s + cw / cw[-1])
                    subj.append(np.full(teach.size, s))
            self._cands = (np.concatenate(tutors), np.concatenate(keys), np.concatenate(subj))
            self._cand_key = key
        return self._cands

    def assign(self, rng, subj: np.ndarray, at, exclude=None) -> np.ndarray:
        """A tutor teaching each subject, favouring roomy, well-rated tutors (-1 when none)."""
        subj = np.asarray(subj, dtype=np.int64)
        at = np.asarray(at, dtype=np.int64)
        tutors, keys, ksubj = self._candidates(int(at.min()) if at.size else self.start)

        def draw(s):
            pos = np.searchsorted(keys, s + rng.random(s.size) * (1 - 1e-9)).clip(0, keys.size - 1)
            return np.where(ksubj[pos] == s, tutors[pos], -1)

        out = draw(subj)
        if exclude is not None:
            exclude = np.asarray(exclude)
            clash = np.flatnonzero(out == exclude)
            if clash.size:
                again = draw(subj[clash])
                out[clash] = np.where(again == exclude[clash], -1, again)
        return out
