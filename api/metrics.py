"""/metrics: the overview cards' numbers."""
from __future__ import annotations

from flask import current_app, jsonify

from api.blueprint import bp
from api.spec import api_doc
from read import status as queries
from read.cache import store_down_since


@bp.get("/metrics")
@api_doc("Overview metrics: value, previous, trend, status, sparkline and why for each card")
def metrics():
    snapshot = queries.overview_snapshot(queries.engine_for(current_app.extensions["settings"]))
    if snapshot is None:
        return jsonify(computed_at=None, cards={}, message="not computed yet: run the overview job")
    if store_down_since() is not None:  # the last snapshot read, kept by the cache while the database is down
        return jsonify({**snapshot, "stale": True, "stale_reason": "database unreachable: last data read"})
    return jsonify(snapshot)
