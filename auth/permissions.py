"""Who may do what: one table of actions x roles, checked on the server by every callback and API route
that changes something (the layouts only use it to grey out buttons)."""
from __future__ import annotations

ALL_ROLES = ("admin", "ops", "cs", "recruiter")

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "churn.retrain": ("admin", "ops"),
    "forecast.retrain": ("admin", "ops", "recruiter"),
    "recommendation.decide": ("admin", "ops", "recruiter"),
    "alert.act": ALL_ROLES,  # acknowledge, snooze, resolve, dismiss
    "alert.resend": ("admin", "ops"),
    "rules.edit": ("admin", "ops"),  # silences and detector rules
    "contact.log": ("admin", "ops", "cs"),
    "users.manage": ("admin",),
    "customers.export": ("admin", "ops", "cs"),
    "personal_data.view": ("admin", "ops", "cs"),
}


class NotAllowed(PermissionError):
    """The user's role may not do this; the message says who may."""


def can(role: str | None, action: str) -> bool:
    """True when `role` may do `action` (an unknown action is refused: new actions must be listed)."""
    return role in PERMISSIONS.get(action, ())


def require(role: str | None, action: str) -> None:
    """NotAllowed with a readable message unless `role` may do `action`."""
    if not can(role, action):
        who = " and ".join(PERMISSIONS.get(action, ())) or "nobody"
        raise NotAllowed(f"Only {who} users may do this ({action}).")
