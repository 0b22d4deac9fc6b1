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
    "history.backfill": ("admin", "ops"),  # start the backfill of derived histories (jobs/backfill.py)
    "customers.export": ("admin", "ops", "cs"),
    "personal_data.view": ("admin", "ops", "cs"),
}


# Which pages each role sees (page = module name in app.py's PAGES): the navbar lists them, and the server
# answers any other page with "not for your role" (layouts/shell.py). A page missing here is admin/ops only.
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "overview": ALL_ROLES,
    "explorer": ("admin", "ops", "recruiter"),
    "velocity": ("admin", "ops", "cs"),
    "queue": ("admin", "ops", "cs"),
    "customers": ("admin", "ops", "cs"),
    "customer_detail": ("admin", "ops", "cs"),
    "churn": ("admin", "ops", "cs"),
    "tutors": ("admin", "ops", "recruiter"),
    "forecast": ("admin", "ops", "recruiter"),
    "recommendations": ("admin", "ops", "recruiter"),
    "alerts": ALL_ROLES,
    "alert_rules": ("admin", "ops"),
    "data_health": ("admin", "ops"),
    "admin": ("admin",),
}
# Where each role lands after signing in: the first of its pages that exists.
HOME_PAGES: dict[str, tuple[str, ...]] = {
    "admin": ("overview",), "ops": ("overview",), "cs": ("queue", "customers"), "recruiter": ("recommendations",),
}


def can_see(role: str | None, page: str) -> bool:
    """True when `role` may open page `page` (a module name of app.py's PAGES)."""
    return role in PAGE_ROLES.get(page, ("admin", "ops"))


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
