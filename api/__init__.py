"""REST API blueprint /api/v1: the pages' read side as JSON, bearer-token auth (health needs none).

Route modules register on `bp`; each is imported once here. openapi.json is built from ROUTES docs.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from api import alerts, auth, core, customers, metrics, tutors  # noqa: E402,F401  (attach before_request and routes)
from api import churn  # noqa: E402,F401
from api import params  # noqa: E402,F401  (ParamError -> 400)
from api import forecast  # noqa: E402,F401  (forecast, recommendations)
