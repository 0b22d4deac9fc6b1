"""The activity engine: customers, tutors and bookings moving through time.

`Engine.step(t0, t1, rng, ...)` advances the marketplace over (t0, t1] — a day of history or an
hour of live mode — vectorised over customers: churn and pauses, tutor departures, signups,
new bookings, booking events and sessions, inbound calls. Booking/session mechanics are in
bookings.py, behavioural coefficients in behaviour.py.
"""
from __future__ import annotations

import numpy as np

from sources.simulation.world import behaviour
from sources.simulation.bookings import BOOK_RING, CANCELLED, SCHED, BookingsMixin
from sources.simulation.world.matching import ONBOARDING, MatchingMixin
from sources.simulation.world.rhythms import ACTIVITY, CALL_HOURS, DAY, HOUR, state_offsets
from sources.simulation.table import Table

NEVER = np.iinfo(np.int64).max // 4
RATE_BASE = 0.066  # session chains per active customer-day before multipliers

CUSTOMER_SPEC = {
    "signup_t": ("i8", 0), "seg": ("i1", 0), "chan": ("i1", 0), "state": ("i1", 0), "subj": ("i1", 0),
    "goal": ("i2", -1), "goal_target": ("i4", 10**4), "goal_will": ("?", False), "base_rate": ("f4", 1.0),
    "frailty": ("f4", 0.0), "lenient": ("f4", 0.0), "kind": ("i1", 0),
    "status": ("i1", 0), "churned_t": ("i8", NEVER), "updated": ("i8", 0), "goal_status": ("i1", 0),
    "goal_t": ("i8", NEVER), "tutor": ("i4", -1), "n_completed": ("i4", 0), "n_resolved": ("i4", 0),
    "first_rating": ("f4", np.nan), "first_status": ("i1", 0), "last_completed": ("i8", 0),
    "last_bad": ("i8", -NEVER), "last_noshow": ("i8", -NEVER), "tutor_changes": ("f4", 0.0),
    "cust_resched": ("f4", 0.0), "eng": ("f4", 0.0), "last28": ("i2", 0), "prev28": ("i2", 0),
    "calls14": ("i2", 0), "seq": ("i8", -1),
}
BOOKING_SPEC = {
    "cust": ("i4", -1), "tutor": ("i4", -1), "subj": ("i1", 0), "created": ("i8", 0), "sched": ("i8", 0),
    "dur": ("i2", 60), "out_status": ("i1", 1), "out_rby": ("i1", 0), "ev": ("i8", 0), "status": ("i1", 0),
    "rby": ("i1", 0), "updated": ("i8", 0), "frating": ("f4", np.nan), "forced": ("?", False), "seq": ("i8", -1),
}


class Engine(BookingsMixin, MatchingMixin):
    def __init__(self, customers: dict, tutors: dict, avail: np.ndarray, start: int, season_fn):
        n = customers["signup_t"].size
        self.c = Table(CUSTOMER_SPEC, capacity=n + 64)
        self.c.add(n, **customers)
        self.c.goal_status[:] = (self.c.goal >= 0).astype(np.int8)
        self.c.updated[:] = self.c.signup_t
        self.b = Table(BOOKING_SPEC, capacity=max(1024, n * 20))
        self.t = tutors
        self.n_tutors = tutors["hired_t"].size
        self.avail = avail
        self.booked = np.zeros((self.n_tutors, BOOK_RING), dtype=bool)
        self.pending = np.empty(0, dtype=np.int64)
        self.ring = np.zeros((n, 56), dtype=np.int8)       # completed sessions per day, last 56 days
        self.call_ring = np.zeros((n, 14), dtype=np.int8)  # inbound calls per day, last 14 days
        self.start = start
        self.season_fn = season_fn                         # day numbers -> [days, subjects] multiplier
        self.st_off = state_offsets(start)
        self.sess_log: list = []
        self.call_log: list = []
        self.decline: tuple[int, int, float] | None = None  # (tutor, from time, quality drop)
        self.tracking = False
        self.touched = {"b": [], "c": []}
        self.seq = {"b": None, "c": None, "k": None}
        self._cand_key = None
        self._cleared = start // HOUR

    # --- bookkeeping ---------------------------------------------------------------------------
    def touch(self, kind: str, idx: np.ndarray) -> None:
        if self.tracking:
            self.touched[kind].append(np.asarray(idx, dtype=np.int64))

    def next_seq(self, kind: str, n: int):
        if self.seq[kind] is None:
            return -1
        out = np.arange(self.seq[kind], self.seq[kind] + n)
        self.seq[kind] += n
        return out

    def penalty(self, ti: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.decline is None:
            return 0.0
        tutor, since, drop = self.decline
        return np.where((ti == tutor) & (t > since), drop, 0.0)

    def season(self, days: np.ndarray) -> np.ndarray:
        """Subject demand multipliers [len(days), 16] for day numbers (cached by day)."""
        days = np.asarray(days, dtype=np.int64)
        cache = self.__dict__.setdefault("_season", {})
        missing = [d for d in np.unique(days).tolist() if d not in cache]
        if missing:
            for d, row in zip(missing, self.season_fn(np.array(missing))):
                cache[d] = row
        return np.stack([cache[d] for d in days.tolist()]) if days.size else np.empty((0, 16))

    def tutor_active(self, t: int) -> np.ndarray:
        return (self.t["hired_t"] + ONBOARDING <= t) & (t < self.t["left_t"])

    # --- one step --------------------------------------------------------------------------------
    def step(self, rng, t0: int, t1: int, hazard: np.ndarray, day: int | None, scripted_churn: bool) -> None:
        """Advance over (t0, t1]: day is the history day index (None in live mode)."""
        frac = (t1 - t0) / DAY
        self.st_off = state_offsets(t0)
        self._clear_booked(t0)
        if day is not None:
            self._roll(day)
        churners = self._churn_and_pause(rng, t0, t1, hazard, frac, scripted_churn)
        self._departures(rng, t0, t1)
        self._release_forced(rng, t1)
        self._signups(rng, t0, t1)
        self._organic(rng, t0, t1, frac)
        self.process(rng, t1, day)
        self._calls(rng, t0, t1, frac, day, churners)
        if day is not None:
            c = self.c
            c.eng[:] = 0.985 * c.eng + rng.normal(0, 0.09, c.n).astype(np.float32)

    def _clear_booked(self, t0: int) -> None:
        now = t0 // HOUR
        if now - self._cleared >= BOOK_RING:
            self.booked[:] = False
        else:
            cols = np.arange(self._cleared, now + 1) % BOOK_RING
            self.booked[:, cols] = False
        self._cleared = now

    def _roll(self, day: int) -> None:
        c, col, mid = self.c, day % 56, (day - 28) % 56
        n = self.ring.shape[0]
        c.prev28[:n] -= self.ring[:, col]
        c.last28[:n] -= self.ring[:, mid]
        c.prev28[:n] += self.ring[:, mid]
        self.ring[:, col] = 0
        cc = day % 14
        c.calls14[:n] -= self.call_ring[:, cc]
        self.call_ring[:, cc] = 0
        c.tutor_changes *= np.float32(np.exp(-1 / 90))
        c.cust_resched *= np.float32(np.exp(-1 / 30))

    def _churn_and_pause(self, rng, t0, t1, hazard, frac, scripted_churn) -> np.ndarray:
        c = self.c
        n = c.n
        elig = (c.signup_t <= t0) & (c.status != 2)
        if not scripted_churn:
            elig &= c.kind != 2
        u = rng.random(n)
        churn = elig & (u < -np.expm1(-hazard[:n] * frac))
        when = t0 + (rng.random(n) * (t1 - t0)).astype(np.int64) + 1
        ci = np.flatnonzero(churn)
        c.status[ci] = 2
        c.churned_t[ci] = when[ci]
        c.updated[ci] = when[ci]
        self.touch("c", ci)
        summer = 3.0 if self._month(t0) in (6, 7) else 1.0
        p_pause = 0.0011 * frac * np.where(c.seg == 0, summer, 1.0)
        pause = elig & ~churn & (c.status == 0) & (c.kind != 2) & (rng.random(n) < p_pause)
        resume = elig & ~churn & (c.status == 1) & (rng.random(n) < frac / 25)
        pi, ri = np.flatnonzero(pause), np.flatnonzero(resume)
        c.status[pi], c.status[ri] = 1, 0
        c.updated[pi], c.updated[ri] = when[pi], when[ri]
        self.touch("c", np.concatenate([pi, ri]))
        self.cancel_for(np.concatenate([ci, pi]), np.concatenate([when[ci], when[pi]]))
        return ci

    def _month(self, t: int) -> int:
        return int(str(np.datetime64(int(t), "s"))[5:7])

    def cancel_for(self, ci: np.ndarray, at: np.ndarray) -> None:
        """Customers who leave or pause cancel their upcoming bookings at that moment."""
        if not ci.size or not self.pending.size:
            return
        b, p = self.b, self.pending
        when = np.full(self.c.n, NEVER, dtype=np.int64)
        when[ci] = at
        tc = when[b.cust[p]]
        hit = (b.status[p] == SCHED) & ~b.forced[p] & (b.ev[p] > tc)
        h = p[hit]
        b.out_status[h] = CANCELLED
        b.out_rby[h] = 0
        b.ev[h] = np.maximum(tc[hit], b.created[h] + 60)

    def _departures(self, rng, t0: int, t1: int) -> None:
        left = self.t["left_t"]
        gone = np.flatnonzero((left > t0) & (left <= t1))
        if not gone.size:
            return
        c, b, p = self.c, self.b, self.pending
        mine = np.flatnonzero(np.isin(c.tutor, gone) & (c.status != 2))
        if mine.size:
            alt = self.assign(rng, c.subj[mine], t1, exclude=c.tutor[mine])
            c.tutor[mine] = alt
            c.tutor_changes[mine] += 1
        hit = np.isin(b.tutor[p], gone) & (b.status[p] == SCHED) & ~b.forced[p] & (b.sched[p] > left[b.tutor[p]])
        h = p[hit]
        b.out_status[h] = 3
        b.out_rby[h] = 1
        b.ev[h] = np.maximum(left[b.tutor[h]], b.created[h] + 60)
        self.avail[gone] = False

    def _release_forced(self, rng, t1: int) -> None:
        f = getattr(self, "forced", None)
        if f is None or self._forced_pos >= f["created"].size:
            return
        stop = np.searchsorted(f["created"], t1, side="right")
        sl = slice(self._forced_pos, stop)
        self._forced_pos = stop
        if stop > sl.start:
            ti, sched = f["tutor"][sl], f["sched"][sl]
            self.booked[ti, (sched // HOUR) % BOOK_RING] = True
            self.add_bookings(rng, f["cust"][sl], ti, f["created"][sl], sched, f["status"][sl],
                              f["rby"][sl], rating=f["rating"][sl], forced=True, ev=f["ev"][sl])

    def _signups(self, rng, t0: int, t1: int) -> None:
        c = self.c
        new = np.flatnonzero((c.signup_t > t0) & (c.signup_t <= t1) & (c.kind == 0))
        if not new.size:
            return
        self.touch("c", new)
        created = np.minimum(c.signup_t[new] + rng.integers(120, 1800, new.size), np.maximum(t1, c.signup_t[new]))
        c.tutor[new] = self.assign(rng, c.subj[new], t0)
        lead = rng.choice([1, 2, 3, 4], new.size, p=[0.3, 0.35, 0.2, 0.15])
        self.new_bookings(rng, new, c.tutor[new], created, self.local_day(created, new) + lead, thin=False)

    def warm_up(self, rng, days: int = 15) -> None:
        """Bookings made in the days before the window that are still ahead when it opens."""
        for k in range(-days, 0):
            t0 = self.start + k * DAY
            self.st_off = state_offsets(t0)
            self._organic(rng, t0, t0 + DAY, 1.0, min_sched=self.start)

    def _organic(self, rng, t0: int, t1: int, frac: float, min_sched: int | None = None) -> None:
        c = self.c
        # book at the subject's busiest level of the coming two weeks; new_bookings then thins each
        # booking by its own day's level, so sessions follow seasonality on the day they happen
        season = self.season(t0 // DAY + np.arange(15)).max(axis=0)
        tenure = (t0 - c.signup_t) / DAY
        rate = (RATE_BASE * c.base_rate * np.exp(c.eng) * season[c.subj] * behaviour.SEG_RATE[c.seg]
                * np.where(c.goal_status == 2, 0.6, 1.0) * np.where(tenure < 21, 1.6, 1.0))
        ok = (c.status == 0) & (c.n_resolved > 0) & (c.kind != 2) & (c.signup_t <= t0)
        lam = rate * ok
        if t1 - t0 < DAY:  # live hours: follow local app activity
            lam = lam * ACTIVITY[self._local_hour(t0, np.arange(c.n))] / ACTIVITY.mean()
        k = rng.poisson(lam * frac)
        ci = np.repeat(np.arange(c.n), k)
        if not ci.size:
            return
        created = self.place(rng, ci, t0, t1, ACTIVITY)
        ti = self.current_tutor(rng, ci, created)
        lday = self.local_day(created, ci)
        self.new_bookings(rng, ci, ti, created, lday + self.lead_days(rng, lday), min_sched=min_sched,
                          season_max=season)

    def _local_hour(self, t: int, ci: np.ndarray) -> np.ndarray:
        return ((t + self.st_off[self.c.state[ci]] * HOUR) // HOUR) % 24

    def place(self, rng, ci: np.ndarray, t0: int, t1: int, profile: np.ndarray) -> np.ndarray:
        """Moments in (t0, t1] for each row: at a local hour drawn from `profile` over a day,
        uniform within shorter intervals."""
        if t1 - t0 < DAY:
            return t0 + 1 + (rng.random(ci.size) * (t1 - t0 - 1)).astype(np.int64)
        hour = rng.choice(24, ci.size, p=profile / profile.sum())
        local0 = (t0 + self.st_off[self.c.state[ci]] * HOUR) % DAY
        delta = (hour * HOUR + rng.integers(0, HOUR, ci.size) - local0) % DAY
        return t0 + np.maximum(delta, 1)

    def _calls(self, rng, t0: int, t1: int, frac: float, day, churners: np.ndarray) -> None:
        c = self.c
        billing = int(str(np.datetime64(int(t0), "s"))[8:10]) <= 3
        lam = behaviour.call_rate(c, t0, billing) * frac
        if t1 - t0 < DAY:
            lam = lam * CALL_HOURS[self._local_hour(t0, np.arange(c.n))] / CALL_HOURS.mean()
        ci = np.repeat(np.arange(c.n), rng.poisson(lam))
        t = self.place(rng, ci, t0, t1, CALL_HOURS)
        reason = behaviour.call_reasons(rng, t0 - c.last_bad[ci] < 7 * DAY, t0 - c.last_noshow[ci] < 7 * DAY)
        leaving = churners[rng.random(churners.size) < 0.35]  # some call to cancel
        lt = np.maximum(c.churned_t[leaving] - rng.integers(60, 1800, leaving.size), t0 + 1)
        ci = np.concatenate([ci, leaving])
        t = np.concatenate([t, lt])
        reason = np.concatenate([reason, np.full(leaving.size, behaviour.REASON["cancellation"])])
        self.log_calls(rng, ci, t, reason, day)

    def log_calls(self, rng, ci, t, reason, day, duration=None) -> None:
        if not ci.size:
            return
        dur = behaviour.call_durations(rng, reason) if duration is None else duration
        self.call_log.append({"cust": ci.astype(np.int64), "t": t.astype(np.int64), "dur": dur,
                              "reason": reason.astype(np.int8), "seq": self.next_seq("k", ci.size)})
        if day is not None:
            hist = ci[ci < self.call_ring.shape[0]]
            np.add.at(self.call_ring[:, day % 14], hist, 1)
            np.add.at(self.c.calls14, hist, 1)
