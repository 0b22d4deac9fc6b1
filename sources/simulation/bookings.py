"""Bookings and sessions: scheduling into tutor availability, outcomes, events, session results.

A mixin of the Engine (engine.py): it reads and writes the engine's customer table `c`, booking
table `b`, tutors `t`, availability `avail`, the `booked` ring and the `pending` index array.
A booking is created with its planned outcome (completed / cancelled / rescheduled / tutor
no-show) and event time; `process(t1)` applies every event up to t1, in the order things happen:
booking changes at their event time, session rows when the scheduled time arrives.
"""
from __future__ import annotations

import numpy as np

from sources.simulation.world import behaviour
from sources.simulation.world.rhythms import DAY, DOW_W, EPOCH_DOW, HOUR, PREF, day_of_week, holiday_factor

SCHED, COMPLETED, CANCELLED, RESCHEDULED, NO_SHOW = 0, 1, 2, 3, 4
BOOK_RING = 24 * 24          # hours of tutor calendar kept (bookings are at most ~16 days ahead)
MAX_AHEAD = 16 * DAY
HOURS_S = np.arange(24, dtype=np.int64) * HOUR
LEAD_P = np.array([0.07, 0.2, 0.15, 0.12, 0.1, 0.08, 0.07, 0.07, 0.03, 0.03, 0.025, 0.02, 0.015, 0.01, 0.01])
DURATION_MIN = np.array([30, 45, 60])
DURATION_P = np.array([0.08, 0.14, 0.78])


class BookingsMixin:

    # --- time helpers --------------------------------------------------------------------------
    def local_day(self, t: np.ndarray, ci: np.ndarray) -> np.ndarray:
        return (t + self.st_off[self.c.state[ci]] * HOUR) // DAY

    def lead_days(self, rng, lday_created: np.ndarray) -> np.ndarray:
        """Days ahead a customer books: mostly within a week, weighted toward busy weekdays."""
        dows = day_of_week(lday_created[:, None] + np.arange(LEAD_P.size)[None, :])
        w = LEAD_P[None, :] * DOW_W[dows]
        u = rng.random(lday_created.size) * w.sum(axis=1)
        return (w.cumsum(axis=1) < u[:, None]).sum(axis=1)

    # --- scheduling ----------------------------------------------------------------------------
    def schedule(self, rng, ci, ti, created, lday, days: int = 5) -> np.ndarray:
        """A free hour of the tutor's availability on the customer's local day `lday` (or, failing
        that, the first of the next days with one), weighted by the customer's hour-of-day
        preference; -1 where none was found."""
        n = ci.size
        out = np.full(n, -1, dtype=np.int64)
        off = self.st_off[self.c.state[ci]] * HOUR
        seg = self.c.seg[ci]
        prefer_first = np.repeat(0.02 ** np.arange(days), 24)[None, :]
        todo = np.arange(n)
        for _ in range(4):  # retries only for two rows wanting the same tutor hour
            if not todo.size:
                break
            m = todo.size
            ld = lday[todo][:, None] + np.arange(days)[None, :]
            cand = ((ld * DAY - off[todo][:, None])[:, :, None] + HOURS_S[None, None, :]).reshape(m, days * 24)
            hrs = cand // HOUR
            tt = ti[todo][:, None]
            w = PREF[seg[todo][:, None], day_of_week(ld)].reshape(m, days * 24) * prefer_first
            w = w * (self.avail[tt, (hrs + EPOCH_DOW * 24) % 168] & ~self.booked[tt, hrs % BOOK_RING])
            c0 = created[todo][:, None]
            w = w * ((cand >= c0 + HOUR) & (cand <= c0 + MAX_AHEAD))
            tot = w.sum(axis=1)
            ok = tot > 0
            rows = todo[ok]
            if not rows.size:
                break
            u = rng.random(rows.size) * tot[ok]
            pick = (w[ok].cumsum(axis=1) < u[:, None]).sum(axis=1).clip(0, days * 24 - 1)
            chosen = cand[ok][np.arange(rows.size), pick]
            key = ti[rows] * BOOK_RING + (chosen // HOUR) % BOOK_RING
            _, first = np.unique(key, return_index=True)
            accept = np.zeros(rows.size, dtype=bool)
            accept[first] = True
            out[rows[accept]] = chosen[accept]
            self.booked[ti[rows[accept]], (chosen[accept] // HOUR) % BOOK_RING] = True
            todo = rows[~accept]
        return out

    def new_bookings(self, rng, ci, ti, created, lday, thin: bool = True, min_sched: int | None = None,
                     season_max: np.ndarray | None = None) -> np.ndarray:
        """Create bookings (planned outcome drawn now); returns their booking positions."""
        has = ti >= 0
        ci, ti, created, lday = ci[has], ti[has], created[has], lday[has]
        sched = self.schedule(rng, ci, ti, created, lday)
        miss = sched < 0
        if miss.any():  # the tutor is full: another tutor of the subject takes it
            alt = self.assign(rng, self.c.subj[ci[miss]], created[miss], exclude=ti[miss])
            ok = alt >= 0
            mi = np.flatnonzero(miss)[ok]
            if mi.size:
                moved = self.c.tutor[ci[mi]] == ti[mi]
                self.c.tutor[ci[mi[moved]]] = alt[ok][moved]
                self.c.tutor_changes[ci[mi[moved]]] += 1
                ti = ti.copy()
                ti[mi] = alt[ok]
                sched[mi] = self.schedule(rng, ci[mi], ti[mi], created[mi], lday[mi])
        keep = sched >= 0
        if min_sched is not None:  # warm-up: only the bookings still ahead when the window opens
            early = keep & (sched <= min_sched)
            self.booked[ti[early], (sched[early] // HOUR) % BOOK_RING] = False
            keep &= ~early
        if thin:  # holidays (and seasonality, for organic bookings): part of the demand does not happen
            lday_s = self.local_day(np.maximum(sched, 0), ci)
            p_keep = holiday_factor(lday_s)
            if season_max is not None and keep.any():
                days, pos = np.unique(lday_s, return_inverse=True)
                subj = self.c.subj[ci].astype(np.int64)
                p_keep = p_keep * self.season(days)[pos, subj] / season_max[subj]
            drop = keep & (rng.random(sched.size) > p_keep)
            self.booked[ti[drop], (sched[drop] // HOUR) % BOOK_RING] = False
            keep &= ~drop
        ci, ti, created, sched = ci[keep], ti[keep], created[keep], sched[keep]
        status, rby = behaviour.outcomes(rng, self.t["unreliable"][ti], self.c.eng[ci])
        return self.add_bookings(rng, ci, ti, created, sched, status, rby)

    def add_bookings(self, rng, ci, ti, created, sched, status, rby, rating=None, forced=False, ev=None):
        n = ci.size
        if ev is None:
            frac = rng.beta(2.0, 1.3, n)
            ev = np.where(np.isin(status, (CANCELLED, RESCHEDULED)),
                          created + (sched - created) * frac, sched).astype(np.int64)
            ev = np.where(ev == sched, ev, np.clip(ev, created + 60, np.maximum(sched - 60, created + 60)))
        dur = DURATION_MIN[(rng.random(n)[:, None] > DURATION_P.cumsum()[None, :]).sum(axis=1).clip(0, 2)]
        seq = self.next_seq("b", n)
        idx = self.b.add(n, cust=ci, tutor=ti, subj=self.c.subj[ci], created=created, sched=sched, dur=dur,
                         out_status=status, out_rby=rby, ev=ev, status=SCHED, rby=0, updated=created,
                         frating=np.nan if rating is None else rating, forced=forced, seq=seq)
        self.pending = np.concatenate([self.pending, idx])
        self.touch("b", idx)
        return idx

    # --- events ----------------------------------------------------------------------------------
    def process(self, rng, t1: int, day: int | None) -> None:
        """Apply every booking event and start every session up to t1 (inclusive)."""
        b = self.b
        for _ in range(20):
            p = self.pending
            due = (b.status[p] == SCHED) & (b.ev[p] <= t1)
            if due.any():
                self._booking_events(rng, p[due])
            p = self.pending
            st = b.status[p]
            start = (st != SCHED) & (st != RESCHEDULED) & (b.sched[p] <= t1)
            if start.any():
                self.session_results(rng, p[start], day)
                self.pending = p[~start]
            p = self.pending
            if not ((b.status[p] == SCHED) & (b.ev[p] <= t1)).any():
                break

    def _booking_events(self, rng, idx: np.ndarray) -> None:
        b, c = self.b, self.c
        b.status[idx] = b.out_status[idx]
        b.rby[idx] = b.out_rby[idx]
        b.updated[idx] = b.ev[idx]
        self.touch("b", idx)
        # a cancelled lesson keeps its hour taken (so one customer never has two sessions at
        # the same hour with the same tutor); a moved one frees it once its replacement is booked
        res = idx[b.status[idx] == RESCHEDULED]
        if res.size:
            self.pending = self.pending[~np.isin(self.pending, res)]
            by_cust = res[b.rby[res] == 2]
            np.add.at(c.cust_resched, b.cust[by_cust], 1.0)
            again = res[c.status[b.cust[res]] == 0]
            ci = b.cust[again]
            ti = self.current_tutor(rng, ci, b.ev[again])
            shift = rng.choice(8, again.size, p=[0.12, 0.25, 0.2, 0.13, 0.1, 0.08, 0.06, 0.06])
            self.new_bookings(rng, ci, ti, b.ev[again], self.local_day(b.sched[again], ci) + shift, thin=False)
            self.booked[b.tutor[res], (b.sched[res] // HOUR) % BOOK_RING] = False
        can = idx[b.status[idx] == CANCELLED]
        if can.size:  # a new customer whose first lesson fell through often books another
            ci = b.cust[can]
            retry = can[(c.n_resolved[ci] == 0) & (c.status[ci] == 0) & (c.kind[ci] != 2) & ~b.forced[can]
                        & (rng.random(can.size) < 0.55)]
            if retry.size:
                ci = b.cust[retry]
                lead = rng.choice([1, 2, 3, 4], retry.size, p=[0.35, 0.35, 0.2, 0.1])
                self.new_bookings(rng, ci, self.current_tutor(rng, ci, b.ev[retry]), b.ev[retry],
                                  self.local_day(b.ev[retry], ci) + lead, thin=False)

    def session_results(self, rng, idx: np.ndarray, day: int | None) -> None:
        """Sessions start: log the session rows and update what customers have experienced."""
        b, c = self.b, self.c
        st = b.status[idx]
        ti, ci, t = b.tutor[idx], b.cust[idx], b.sched[idx]
        rating = np.full(idx.size, np.nan, dtype=np.float32)
        comp = st == COMPLETED
        forced = ~np.isnan(b.frating[idx])
        rated = comp & (forced | (rng.random(idx.size) < 0.82))
        q = self.t["quality"][ti] - self.penalty(ti, t)
        rating[rated] = behaviour.ratings(rng, q[rated], c.lenient[ci[rated]])
        rating[forced & comp] = b.frating[idx[forced & comp]]
        self.sess_log.append((idx.copy(), rating))

        done = st != CANCELLED
        order = np.argsort(t, kind="stable")
        o = order[done[order]]
        uc, first = np.unique(ci[o], return_index=True)
        newbie = c.n_resolved[uc] == 0
        fi = o[first[newbie]]
        c.first_rating[ci[fi]] = rating[fi]
        c.first_status[ci[fi]] = st[fi]
        np.add.at(c.n_resolved, ci[done], 1)
        cc = ci[comp]
        np.add.at(c.n_completed, cc, 1)
        np.maximum.at(c.last_completed, cc, t[comp])
        if day is not None:
            hist = cc[cc < self.ring.shape[0]]
            np.add.at(self.ring[:, day % self.ring.shape[1]], hist, 1)
            np.add.at(c.last28, hist, 1)
        goal = comp & (c.goal_status[ci] == 1) & c.goal_will[ci] & (c.n_completed[ci] >= c.goal_target[ci])
        if goal.any():
            gi, gt = ci[goal], t[goal] + b.dur[idx[goal]] * 60
            c.goal_status[gi] = 2
            c.goal_t[gi] = gt
            c.updated[gi] = np.maximum(c.updated[gi], gt)
            self.touch("c", gi)
        bad = comp & (rating <= 2)
        np.maximum.at(c.last_bad, ci[bad], t[bad])
        ns = st == NO_SHOW
        np.maximum.at(c.last_noshow, ci[ns], t[ns])
        # unhappy customers ask for another tutor (and a few switch anyway)
        p = np.where(bad, 0.5, np.where(comp & (rating == 3), 0.15, np.where(ns, 0.3, 0.008)))
        sw = done & (rng.random(idx.size) < p) & (c.tutor[ci] == ti) & (c.kind[ci] != 2) & ~b.forced[idx]
        if sw.any():
            sc, first = np.unique(ci[sw], return_index=True)
            alt = self.assign(rng, c.subj[sc], t[sw][first], exclude=ti[sw][first])
            ok = alt >= 0
            c.tutor[sc[ok]] = alt[ok]
            c.tutor_changes[sc[ok]] += 1

    def current_tutor(self, rng, ci: np.ndarray, at: np.ndarray) -> np.ndarray:
        """The customer's tutor, or a newly assigned one when they have none or theirs has left."""
        ti = self.c.tutor[ci].copy()
        gone = (ti < 0) | (self.t["left_t"][np.maximum(ti, 0)] <= at)
        if gone.any():
            alt = self.assign(rng, self.c.subj[ci[gone]], at[gone])
            had = ti[gone] >= 0
            ti[gone] = alt
            self.c.tutor[ci[gone]] = alt
            self.c.tutor_changes[ci[gone][had]] += 1
        return ti
