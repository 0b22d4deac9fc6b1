"""Which pages the signed-in role sees, enforced on the server (auth/permissions.PAGE_ROLES).

Three places ask: the navbar (lists only the role's pages), every page's layout (a page drawn by the Dash
router for a role that may not see it is replaced by a refusal), and a request hook in front of Flask
(a direct visit answers 403, a visit to "/" goes to the role's home page).
"""
from __future__ import annotations

from typing import Callable

import dash
from flask import redirect, request

from auth.permissions import HOME_PAGES, can_see
from ui.components import empty_state
from web_context import current_role


def _pages() -> dict[str, dict]:
    return {p["module"]: p for p in dash.page_registry.values()}


def home_path(role: str | None) -> str:
    """The path of the role's home page (its first HOME_PAGES entry that is registered), "/" otherwise."""
    pages = _pages()
    for module in HOME_PAGES.get(role or "", ()):
        if module in pages and "<" not in pages[module]["path"]:
            return pages[module]["path"]
    return "/"


def visible_pages(role: str | None) -> list[dict]:
    """The registered pages `role` may open, in menu order."""
    return sorted((p for p in dash.page_registry.values() if can_see(role, p["module"])),
                  key=lambda p: p.get("order", 99))


def refusal(module: str):
    """What a page says to a role that may not open it."""
    return empty_state("This page is not available to your role",
                       f"Ask an administrator if you need it. Your pages are in the menu; your home is {home_path(current_role())}.",
                       id="shell-page-refused")


def guarded(module: str, layout: Callable) -> Callable:
    """The page's layout function, refusing roles that may not see it (the Dash router calls it on the server)."""
    def page(**query):
        if not can_see(current_role(), module):
            return refusal(module)
        return layout(**query)
    page.__name__ = f"{module}_layout"
    return page


def _page_for_path(path: str) -> str | None:
    for p in dash.page_registry.values():
        template = p.get("path_template")
        if p["path"] == path:
            return p["module"]
        if template and "<" in template:
            prefix = template.split("<", 1)[0]
            if path.startswith(prefix) and "/" not in path[len(prefix):].strip("/"):
                return p["module"]
    return None


def page_request_guard():
    """Flask before_request: "/" -> the role's home; a page the role may not see -> 403 (the same refusal
    the router shows). Anonymous requests are left to the login guard; non-page paths pass."""
    if request.method != "GET" or request.path.startswith(("/_dash", "/api/", "/assets/", "/login", "/logout")):
        return None
    role = current_role()
    if role is None:
        return None
    module = _page_for_path(request.path.rstrip("/") or "/")
    if module is None:
        return None
    if request.path == "/" and not request.query_string:
        home = home_path(role)
        if home != "/":
            return redirect(home)
    if not can_see(role, module):
        return (f"<!doctype html><title>Not available</title><p>The page {request.path} is not available to the "
                f"{role} role. <a href='{home_path(role)}'>Go to your home page</a>.</p>"), 403
    return None
