"""Saved views: a user names the view a page shows (its query string) to open it again later."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from infra.clock import utcnow
from models.derived import SavedView

PAGES = ("customers", "alerts", "tutors", "churn")
NAME_MAX, QUERY_MAX, PER_USER = 80, 4000, 50


def save_view(engine: Engine, user_email: str | None, page: str, name: str | None, query: str | None,
              at: datetime | None = None) -> int:
    """Save (or overwrite, by name) the user's view of `page`; ValueError with a message on bad input."""
    name = " ".join((name or "").split())
    query = (query or "").strip()
    if not user_email:
        raise ValueError("Sign in to save views.")
    if page not in PAGES:
        raise ValueError(f"Views can be saved on {', '.join(PAGES)}.")
    if not name:
        raise ValueError("Name the view.")
    if len(name) > NAME_MAX:
        raise ValueError(f"A view's name has at most {NAME_MAX} characters.")
    if len(query) > QUERY_MAX or (query and not query.startswith("?")):
        raise ValueError("This view cannot be saved (its address is not a page's query string).")
    parse_qsl(query[1:], strict_parsing=False)  # a query string, nothing else is stored
    at = at or utcnow()
    with engine.begin() as conn:
        existing = conn.execute(select(SavedView.id).where(SavedView.user_email == user_email, SavedView.page == page,
                                                           SavedView.name == name)).scalar()
        if existing:
            conn.execute(update(SavedView).where(SavedView.id == existing).values(query=query, created_at=at))
            return int(existing)
        count = len(conn.execute(select(SavedView.id).where(SavedView.user_email == user_email)).all())
        if count >= PER_USER:
            raise ValueError(f"You have {PER_USER} saved views; delete one first.")
        return int(conn.execute(insert(SavedView).values(user_email=user_email, page=page, name=name, query=query,
                                                         created_at=at)).inserted_primary_key[0])


def delete_view(engine: Engine, user_email: str | None, view_id: int) -> None:
    with engine.begin() as conn:
        done = conn.execute(delete(SavedView).where(SavedView.id == view_id, SavedView.user_email == user_email)).rowcount
    if not done:
        raise ValueError("No such saved view.")
