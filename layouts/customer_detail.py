"""One customer (/customers/<id>): score and tier with history, each component with its facts, why and
formula, triggers firing with their why, the suggested next action, sessions and calls, and the
contact log where an agent records outreach and its outcome."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from ui.components import section
from writes.contacts import CONTACT_CHANNELS, CONTACT_OUTCOMES, NOTE_MAX

CHANNEL_LABELS = {"phone": "Phone", "email": "Email", "sms": "SMS", "in_app": "In-app message"}
OUTCOME_LABELS = {"reached": "Reached", "voicemail": "Left a voicemail", "no_answer": "No answer",
                  "resolved": "Resolved", "escalated": "Escalated"}


def contact_form() -> html.Div:
    return html.Div([
        dbc.Row([
            dbc.Col([dbc.Label("Channel", html_for="customer-contact-channel", className="small mb-1"),
                     dbc.Select(id="customer-contact-channel", placeholder="How did you reach out?",
                                options=[{"label": CHANNEL_LABELS[c], "value": c} for c in CONTACT_CHANNELS])], md=6),
            dbc.Col([dbc.Label("Outcome", html_for="customer-contact-outcome", className="small mb-1"),
                     dbc.Select(id="customer-contact-outcome", placeholder="What happened?",
                                options=[{"label": OUTCOME_LABELS[o], "value": o} for o in CONTACT_OUTCOMES])], md=6),
        ], className="g-2 mb-2"),
        dbc.Textarea(id="customer-contact-note", placeholder=f"Note (optional, up to {NOTE_MAX:,} characters)",
                     rows=3, className="mb-2"),
        dbc.Button([html.I(className="bi bi-journal-plus me-1"), "Log contact"], id="customer-contact-save",
                   color="primary", size="sm"),
        html.Div(id="customer-contact-message", className="mt-2"),
        html.Div(id="customer-contacts", className="mt-3"),
    ])


def layout(customer_id: str | None = None, **_query) -> html.Div:
    return html.Div([
        dcc.Store(id="customer-id", data=customer_id),
        dcc.Store(id="customer-contact-saved", data=0),
        html.Div(dcc.Link([html.I(className="bi bi-arrow-left me-1"), "All customers"], href="/customers",
                          id="customer-back"),
                 className="small mb-2"),
        dcc.Loading(html.Div(id="customer-content"), type="dot", delay_show=300),
        html.Div(section("Contact log", contact_form(), id="customer-contact-card",
                         help_text="Record every outreach and its outcome; it is kept with the customer."),
                 id="customer-contact-section"),
    ])
