"""What an ops user sees on the data-health page and in /api/v1/health, through the real server.

The page's data comes from one Dash callback; this posts to `/_dash-update-component` as the
browser does, signed in, so a test reads exactly the rows the page's grids would show.
"""
from __future__ import annotations

import re

from app import create_app
from auth import accounts
from models.base import get_engine

OUTPUTS = [("data-health-cards", "children"), ("data-health-sources", "rowData"),
           ("data-health-quarantine", "rowData"), ("data-health-jobs", "rowData")]


def _client(settings):
    engine = get_engine(settings.db_url)
    try:
        accounts.create_user(engine, "ops-view@example.com", "ops", "correct-horse-battery")
    except Exception:  # noqa: BLE001 - already created by an earlier call on this store
        pass
    client = create_app(settings).server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "ops-view@example.com", "password": "correct-horse-battery",
                                           "csrf_token": token, "next": "/data-health"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def data_health(settings) -> dict:
    """{"sources": [grid rows], "quarantine": [grid rows], "health": /api/v1/health JSON}."""
    client = _client(settings)
    body = {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in OUTPUTS) + "..",
        "outputs": [{"id": i, "property": p} for i, p in OUTPUTS],
        "inputs": [{"id": "shell-data-version", "property": "data", "value": None},
                   {"id": "shell-refresh", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["shell-refresh.n_intervals"], "state": [],
    }
    response = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": _csrf(client)})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    data = response.get_json()["response"]
    health = client.get("/api/v1/health").get_json()
    return {"sources": data["data-health-sources"]["rowData"], "quarantine": data["data-health-quarantine"]["rowData"],
            "health": health}


def _csrf(client) -> str:
    page = client.get("/data-health").get_data(as_text=True)
    found = re.search(r'csrf[-_]token"?\s*(?:content|value)="([^"]+)"', page)
    return found.group(1) if found else ""
