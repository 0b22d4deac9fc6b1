"""/health (public) and /openapi.json."""
from __future__ import annotations

from flask import current_app, jsonify

from api.blueprint import bp
from api.spec import openapi_document
from read import status as queries


@bp.get("/health")
def health():
    """Service status and per-source freshness; no authentication."""
    settings = current_app.extensions["settings"]
    return jsonify(queries.health_status(settings))


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app))
