"""Security headers on every response: a Content-Security-Policy Dash works with, no framing, no MIME
sniffing, and HSTS when the cookies are Secure (served over HTTPS).

A small after-request hook rather than flask-talisman: five headers, and Dash's inline renderer script
needs its hash (Dash.csp_hashes) in script-src, which is known only once the app is built.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, Response

# 'unsafe-eval': plotly.js (the full bundle Dash serves) and dash-ag-grid's string functions compile code
# at run time. 'unsafe-inline' styles: Dash components set style attributes. Everything is served by us.
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'unsafe-eval'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "worker-src": ["'self'", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def content_security_policy(script_hashes: list[str]) -> str:
    policy = {**POLICY, "script-src": POLICY["script-src"] + list(script_hashes)}
    return "; ".join(f"{name} {' '.join(values)}" for name, values in policy.items())


def init_headers(server: Flask, script_hashes: Callable[[], list[str]], hsts_seconds: int) -> None:
    """Add the headers to every response of `server` (HSTS only when hsts_seconds > 0). `script_hashes` is
    asked again whenever it changes: Dash adds inline scripts (clientside callbacks) as it sets up and serves."""
    csp: dict[tuple, str] = {}

    @server.after_request
    def _security_headers(response: Response) -> Response:
        hashes = tuple(script_hashes())
        if hashes not in csp:
            csp.clear()
            csp[hashes] = content_security_policy(list(hashes))
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp[hashes])
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if hsts_seconds > 0:
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}; includeSubDomains")
        return response
