"""Customers' contacts (name, email, phone) and what a session cost, for the simulated marketplace.

Names come from pools Faker generates once with a fixed seed; each customer's contact is picked
from its sequence number, so a customer keeps the same contact in history and in live rows and the
same seed gives the same marketplace. Picking from pools with numpy keeps 500,000 customers fast
(calling Faker per customer would take minutes). All of it is made up; it is still handled as
personal data downstream (never logged).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

POOL = 1000
DOMAINS = np.array(["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com"], dtype=object)
HOURLY_USD = 30.0 + np.arange(16) * 2.5  # per subject (contract SUBJECTS order): test prep and sciences cost more


@lru_cache(maxsize=1)
def _pools() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from faker import Faker
    fake = Faker("en_US")
    fake.seed_instance(20260101)
    first = np.array([fake.first_name() for _ in range(POOL)], dtype=object)
    last = np.array([fake.last_name() for _ in range(POOL)], dtype=object)
    area = np.array([str(fake.random_int(201, 989)) for _ in range(POOL)], dtype=object)
    return first, last, area


def contacts(seq: np.ndarray) -> dict[str, np.ndarray]:
    """name, email, phone for customers with these sequence numbers (deterministic per number)."""
    first, last, area = _pools()
    seq = np.asarray(seq, dtype=np.int64)
    f = first[(seq * 7919) % POOL]
    l_ = last[(seq * 104729 + 13) % POOL]
    name = f + " " + l_
    handle = np.char.lower((f + "." + l_).astype(str)).astype(object)
    email = handle + (seq % 100).astype(str).astype(object) + "@" + DOMAINS[seq % DOMAINS.size]
    line = ((seq * 2654435761) % 10_000_000).astype(np.int64)
    phone = np.array([f"+1 {a}-{n // 10_000:03d}-{n % 10_000:04d}" for a, n in
                      zip(area[(seq * 31) % POOL].tolist(), line.tolist())], dtype=object)
    return {"name": name, "email": email, "phone": phone}


def session_prices(subject: np.ndarray, minutes: np.ndarray, status: np.ndarray) -> np.ndarray:
    """USD paid: the subject's hourly rate for the session's length; a cancelled session is free."""
    price = np.round(HOURLY_USD[np.asarray(subject, dtype=np.int64)] * np.asarray(minutes, dtype=float) / 60, 2)
    return np.where(np.asarray(status) == 2, 0.0, price)
