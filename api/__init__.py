"""REST API blueprint /api/v1: the pages' read side as JSON, bearer-token auth (health needs none).

Route modules register on `bp`; each is imported once here. openapi.json is built from ROUTES docs.
"""
from __future__ import annotations

from api.blueprint import bp  # noqa: F401  (app.py registers it)
from api import alerts, auth, core, customers, metrics, tutors  # noqa: F401  (attach before_request and routes)
from api import churn  # noqa: F401
from api import params  # noqa: F401  (ParamError -> 400)
from api import forecast  # noqa: F401  (forecast, recommendations)
