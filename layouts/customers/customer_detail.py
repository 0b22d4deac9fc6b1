"""One customer (/customers/<id>): at the top, who it is and how to reach them, its owner, the suggested
action with the tasks behind it and the form to log a contact with its outcome and follow-up date;
below, score and tier with history, each component with its facts, why and formula, triggers, sessions
and calls, and the contact log."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from infra.clock import utcnow
from ui.components import section
from writes.contacts import CONTACT_CHANNELS, CONTACT_OUTCOMES, NOTE_MAX, default_follow_up

CHANNEL_LABELS = {"phone": "Phone", "email": "Email", "sms": "SMS", "in_app": "In-app message"}
OUTCOME_LABELS = {"reached": "Reached", "voicemail": "Left a voicemail", "no_answer": "No answer",
                  "resolved": "Resolved", "escalated": "Escalated"}


def contact_form() -> html.Div:
    return html.Div([
        dbc.Row([
            dbc.Col([dbc.Label("Channel", html_for="customer-contact-channel", className="small mb-1"),
                     dbc.Select(id="customer-contact-channel", placeholder="How did you reach out?",
                                options=[{"label": CHANNEL_LABELS[c], "value": c} for c in CONTACT_CHANNELS])], md=4),
            dbc.Col([dbc.Label("Outcome", html_for="customer-contact-outcome", className="small mb-1"),
                     dbc.Select(id="customer-contact-outcome", placeholder="What happened?",
                                options=[{"label": OUTCOME_LABELS[o], "value": o} for o in CONTACT_OUTCOMES])], md=4),
            dbc.Col([dbc.Label("Follow up on", html_for="customer-contact-follow-up", className="small mb-1"),
                     dbc.Input(id="customer-contact-follow-up", type="date",
                               value=f"{default_follow_up(None, utcnow()):%Y-%m-%d}")], md=4),
        ], className="g-2 mb-2"),
        dbc.Textarea(id="customer-contact-note", placeholder=f"Note (optional, up to {NOTE_MAX:,} characters)",
                     rows=2, className="mb-2"),
        dbc.Button([html.I(className="bi bi-journal-plus me-1"), "Log contact"], id="customer-contact-save",
                   color="primary", size="sm"),
        html.Small(" The customer's tasks wait until the follow-up date, then come back if still needed.",
                   className="text-muted"),
        html.Div(id="customer-contact-message", className="mt-2"),
    ])


def top() -> dbc.Row:
    """Who, how to reach them, who owns them, what to do and the form to log it: together, above the fold."""
    return dbc.Row([
        dbc.Col([html.Div(id="customer-identity"), html.Div(id="customer-owner")], lg=4),
        dbc.Col(html.Div(id="customer-action"), lg=4),
        dbc.Col(section("Log a contact", contact_form(), id="customer-contact-card"), lg=4),
    ], className="g-3 customer-topbar", id="customer-contact-section")


def layout(customer_id: str | None = None, **_query) -> html.Div:
    return html.Div([
        dcc.Store(id="customer-id", data=customer_id),
        dcc.Store(id="customer-contact-saved", data=0),
        html.Div(dcc.Link([html.I(className="bi bi-arrow-left me-1"), "All customers"], href="/customers",
                          id="customer-back"),
                 className="small mb-2"),
        top(),
        dcc.Loading(html.Div(id="customer-content"), type="dot", delay_show=300),
        section("Contact log", html.Div(id="customer-contacts"), id="customer-contact-log",
                help_text="Every outreach and its outcome, kept with the customer."),
    ])
