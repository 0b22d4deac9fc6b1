"""A "Retrain now" button for any page: starts a job through the one door and follows its run.

The layout side is `ui.components.job_button(prefix, ...)`; `follow_job(prefix, job, action, done_text)`
registers the two callbacks: the click (role checked on the server, answered at once, also when the
workers are unreachable) and the 1-second poll of the run's progress in job_runs.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from dash import Input, Output, State, callback, no_update

from auth.permissions import NotAllowed
from web_context import current_email, current_role, current_settings
from workers import door

SHOWN = {"display": "flex", "width": "220px", "height": "20px"}
HIDDEN = {"display": "none", "width": "220px", "height": "20px"}


def follow_job(prefix: str, job: str, action: str, done_text: Callable[[dict], str]) -> None:
    """Register the click and poll callbacks of the button `{prefix}-retrain`."""

    @callback(Output(f"{prefix}-retrain-run", "data"), Output(f"{prefix}-retrain-poll", "disabled"),
              Input(f"{prefix}-retrain", "n_clicks"), prevent_initial_call=True)
    def click(_n):
        try:
            asked = door.start(job, current_settings(), current_email(), current_role(), action)
        except NotAllowed as exc:
            return {"error": str(exc)}, True
        except door.WorkersUnreachable as exc:
            return {"error": str(exc)}, True
        return {"since": asked.isoformat()}, False

    @callback(Output(f"{prefix}-retrain-status", "children"), Output(f"{prefix}-retrain-progress", "value"),
              Output(f"{prefix}-retrain-progress", "label"), Output(f"{prefix}-retrain-progress", "style"),
              Output(f"{prefix}-retrain", "disabled"), Output(f"{prefix}-retrain-poll", "disabled", allow_duplicate=True),
              Input(f"{prefix}-retrain-run", "data"), Input(f"{prefix}-retrain-poll", "n_intervals"),
              State(f"{prefix}-retrain", "disabled"), prevent_initial_call=True)
    def poll(run, _n, disabled):
        if not run:
            return no_update, no_update, no_update, no_update, no_update, True
        if "error" in run:
            return run["error"], 0, "", HIDDEN, disabled, True
        st = door.state(current_settings(), job, datetime.fromisoformat(run["since"]))
        if not st.finished:
            pct = int(round(100 * st.progress))
            return f"{st.step}…" if st.step else "", pct, f"{pct} %", SHOWN, True, False
        if st.status == "ok":
            text = done_text(st.detail)
        else:
            text = f"Not done: {st.detail.get('error', st.status)}"
        return text, 100, "", HIDDEN, False, True
