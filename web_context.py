"""How Dash callbacks and API views reach the app's Settings and current user (Flask request context)."""
from __future__ import annotations

from flask import current_app, has_app_context
from flask_login import current_user

from auth import permissions
from config import Settings, get_settings


def current_settings() -> Settings:
    if has_app_context() and "settings" in current_app.extensions:
        return current_app.extensions["settings"]
    return get_settings()  # background callbacks run outside the app: same environment, same settings


def current_email() -> str | None:
    try:
        return current_user.email if current_user.is_authenticated else None
    except Exception:
        return None


def current_role() -> str | None:
    try:
        return current_user.role if current_user.is_authenticated else None
    except Exception:
        return None


def can(action: str) -> bool:
    """Whether the signed-in user's role may do `action` (auth/permissions.py)."""
    return permissions.can(current_role(), action)


def require(action: str) -> None:
    """NotAllowed unless the signed-in user's role may do `action`; a callback raising it answers 403."""
    permissions.require(current_role(), action)
