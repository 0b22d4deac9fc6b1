"""A user's saved page views (name -> query string), newest first."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from models.derived import SavedView


def list_views(engine: Engine, user_email: str | None, page: str) -> list[dict]:
    if not user_email:
        return []
    with engine.connect() as conn:
        rows = conn.execute(select(SavedView.id, SavedView.name, SavedView.query)
                            .where(SavedView.user_email == user_email, SavedView.page == page)
                            .order_by(SavedView.id.desc())).all()
    return [dict(r._mapping) for r in rows]
