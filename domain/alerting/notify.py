"""Which messages to send about alerts: pure planning, no database, no network.

    plan_deliveries(alerts, recipients_by_role, at, already) -> [Delivery]

- critical alerts go out at once: the criticals of one rule that no message carried yet (those it
  raised since the last notify run, a minute apart) are one message listing them, not one each;
- everything else waits for the hourly digest: one per recipient group (role) per hour window,
  grouped by rule with counts and the top items;
- Slack (when a webhook is configured) gets the same grouping, one digest per hour for everyone.

Nothing is sent twice. Every Delivery has a deterministic dedup_key (the alert_deliveries table
holds it as unique), and `already` also carries coverage tokens, one per alert already put in a
message of that channel and kind (`covered()` builds both from the stored deliveries), so a
planned message never repeats an alert that an earlier message carried.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping

import pandas as pd

from domain.alerting.lifecycle import is_silenced

CHANNELS = ("email", "slack")
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
DEFAULT_ROUTES: dict[str, list[str]] = {
    "customer_risk": ["cs"], "supply_demand": ["recruiter"], "tutor_performance": ["ops"],
    "anomaly": ["ops"], "data_quality": ["ops"], "critical": ["admin"]}
ALERT_COLUMNS = ["id", "rule", "type", "severity", "status", "title", "message", "entity_id", "current_value",
                 "expected_value", "investigation", "link", "detected_at"]
_EMAIL = re.compile(r"^[^@\s,;:]+@[^@\s,;:]+\.[^@\s,;:]+$")
_ROLE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Delivery:
    """One message to one channel. recipients: email addresses (empty for Slack)."""
    channel: str
    kind: str  # immediate, digest
    dedup_key: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    alert_ids: tuple[int, ...]


# ---------------------------------------------------------------- recipients

def parse_recipients(text: str | None) -> dict[str, list[str]]:
    """"ops:a@x.com,b@x.com;cs:c@x.com" -> {"ops": ["a@x.com", "b@x.com"], "cs": ["c@x.com"]}.

    Emails are lower-cased; a malformed entry raises ValueError naming it (a typo in the
    configuration must fail the job visibly, not drop someone's alerts).
    """
    out: dict[str, list[str]] = {}
    for part in (text or "").split(";"):
        part = part.strip()
        if not part:
            continue
        role, sep, emails = part.partition(":")
        role = role.strip().lower()
        if not sep or not _ROLE.match(role):
            raise ValueError(f"alert_recipients entry {part!r} must look like role:email[,email]")
        for email in emails.split(","):
            email = email.strip().lower()
            if not email:
                continue
            if not _EMAIL.match(email):
                raise ValueError(f"alert_recipients: {email!r} (role {role}) is not an email address")
            out.setdefault(role, []).append(email)
    return merge_recipients(out)


def users_by_role(users: pd.DataFrame) -> dict[str, list[str]]:
    """Users (columns email, role, active) -> {role: [email]} of the active ones."""
    if users.empty:
        return {}
    active = users[users["active"].astype(bool)]
    return merge_recipients({role: list(group["email"]) for role, group in active.groupby("role")})


def merge_recipients(*maps: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Union of several {role: emails}, each list sorted and without duplicates."""
    out: dict[str, set[str]] = {}
    for m in maps:
        for role, emails in m.items():
            out.setdefault(role, set()).update(e.strip().lower() for e in emails if e and e.strip())
    return {role: sorted(emails) for role, emails in sorted(out.items()) if emails}


def roles_for(alert_type: str, severity: str, routes: Mapping[str, list[str]] = DEFAULT_ROUTES) -> list[str]:
    """Roles that hear about an alert: its type's roles, plus the "critical" roles for a critical one."""
    roles = list(routes.get(alert_type, []))
    if severity == "critical":
        roles += routes.get("critical", [])
    return sorted(set(roles))


def recipients_for(alert_types: Iterable[str], severity: str, recipients_by_role: Mapping[str, list[str]],
                   routes: Mapping[str, list[str]] = DEFAULT_ROUTES) -> tuple[str, ...]:
    roles = {r for t in alert_types for r in roles_for(t, severity, routes)}
    return tuple(sorted({e for r in roles for e in recipients_by_role.get(r, [])}))


# ---------------------------------------------------------------- dedup

def _ids_hash(ids: Iterable[int]) -> str:
    return hashlib.sha1(",".join(str(i) for i in sorted(ids)).encode()).hexdigest()[:16]


def hour_stamp(window_start: datetime) -> str:
    return window_start.strftime("%Y-%m-%dT%H")


def immediate_key(channel: str, rule: str, ids: Iterable[int]) -> str:
    return f"{channel}:immediate:{rule}:{_ids_hash(ids)}"


def digest_key(channel: str, group: str, window_start: datetime) -> str:
    return f"{channel}:digest:{group}:{hour_stamp(window_start)}"


def _token(channel: str, kind: str, group: str, alert_id: int) -> str:
    return f"{channel}:{kind}:{group}:alert:{int(alert_id)}"


def covered(deliveries: pd.DataFrame) -> set[str]:
    """Stored deliveries (columns channel, kind, dedup_key, alert_ids "1,2,3") -> the `already` set:
    their dedup keys plus one coverage token per alert and channel/kind/group."""
    out: set[str] = set()
    for row in deliveries.itertuples():
        out.add(row.dedup_key)
        group = row.dedup_key.split(":")[2] if row.kind == "digest" else "-"
        for alert_id in str(row.alert_ids or "").split(","):
            if alert_id.strip():
                out.add(_token(row.channel, row.kind, group, int(alert_id)))
    return out


def next_attempt_at(attempts: int, at: datetime, base_s: float = 60, max_attempts: int = 6) -> datetime | None:
    """When to retry after `attempts` failed sends: base, 2x, 4x ... ; None once max_attempts is reached."""
    if attempts >= max_attempts:
        return None
    return at + timedelta(seconds=base_s * 2 ** max(0, attempts - 1))


# ---------------------------------------------------------------- planning

def plan_deliveries(alerts: pd.DataFrame, recipients_by_role: Mapping[str, list[str]], at: datetime,
                    already: set[str], *, routes: Mapping[str, list[str]] = DEFAULT_ROUTES,
                    email: bool = True, slack: bool = False, base_url: str = "",
                    silences: list[dict] | None = None, max_items: int = 10) -> list[Delivery]:
    """Messages to send now for `alerts` (columns ALERT_COLUMNS), leaving out what `already` covers.

    Only active alerts detected at or before `at` count (acknowledged, snoozed, resolved or
    dismissed ones need no message). The digest for the hour window [H-1, H) is planned once the
    window has closed (H <= at) and carries every non-critical alert detected before H that no
    earlier digest of that group carried, so a late or slow job loses nothing.
    """
    if alerts.empty:
        return []
    df = alerts[(alerts["status"] == "active") & (pd.to_datetime(alerts["detected_at"]) <= pd.Timestamp(at))].copy()
    df["detected_at"] = pd.to_datetime(df["detected_at"])
    if silences:
        df = _where(df, [not is_silenced(r.rule, r.entity_id, at, silences) for r in df.itertuples()])
    if df.empty:
        return []
    channels = [c for c, on in (("email", email), ("slack", slack)) if on]
    critical = df[df["severity"] == "critical"]
    rest = df[df["severity"] != "critical"]
    out: list[Delivery] = []
    for channel in channels:
        out += _immediate(channel, critical, recipients_by_role, already, routes, base_url, max_items)
        out += _digests(channel, rest, recipients_by_role, at, already, routes, base_url)
    return out


def _where(df: pd.DataFrame, keep: list[bool]) -> pd.DataFrame:
    """Rows where keep is True (a plain list would select columns when it is empty)."""
    return df.loc[pd.Series(keep, index=df.index, dtype=bool)]


def _not_covered(df: pd.DataFrame, channel: str, kind: str, group: str, already: set[str]) -> pd.DataFrame:
    return _where(df, [_token(channel, kind, group, i) not in already for i in df["id"]])


def _immediate(channel, critical, recipients_by_role, already, routes, base_url, max_items) -> list[Delivery]:
    out = []
    todo = _not_covered(critical, channel, "immediate", "-", already)
    for rule, group in todo.groupby("rule", sort=True):
        ids = tuple(sorted(int(i) for i in group["id"]))
        key = immediate_key(channel, rule, ids)
        if key in already:
            continue
        recipients = recipients_for(group["type"].unique(), "critical", recipients_by_role, routes) if channel == "email" else ()
        if channel == "email" and not recipients:
            continue
        subject, body = render_immediate(group, base_url, max_items)
        out.append(Delivery(channel, "immediate", key, recipients, subject, body, ids))
    return out


def _digests(channel, rest, recipients_by_role, at, already, routes, base_url) -> list[Delivery]:
    window_end = at.replace(minute=0, second=0, microsecond=0)
    window_start = window_end - timedelta(hours=1)
    closed = rest[rest["detected_at"] < pd.Timestamp(window_end)]
    if channel == "email":
        groups = {role: _where(closed, [role in roles_for(t, s, routes) for t, s in zip(closed["type"], closed["severity"])])
                  for role in sorted(recipients_by_role)}
    else:
        groups = {"all": closed}
    out = []
    for group, subset in groups.items():
        key = digest_key(channel, group, window_start)
        todo = _not_covered(subset, channel, "digest", group, already)
        if todo.empty or key in already:
            continue
        recipients = tuple(recipients_by_role.get(group, ())) if channel == "email" else ()
        subject, body = render_digest(todo, window_start, window_end, group, base_url)
        out.append(Delivery(channel, "digest", key, recipients, subject, body,
                            tuple(sorted(int(i) for i in todo["id"]))))
    return out


# ---------------------------------------------------------------- text

def _num(value) -> str:
    if value is None or value != value:
        return "n/a"
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.3g}" if abs(value) < 100 else f"{value:,.1f}"


def _url(base_url: str, link) -> str | None:
    if not link or link != link:
        return None
    return link if re.match(r"^https?://", str(link)) else f"{base_url}{link}" if str(link).startswith("/") else f"{base_url}/{link}"


def _steps(investigation) -> list[str]:
    if not investigation or investigation != investigation:
        return []
    return [s.strip() for s in str(investigation).splitlines() if s.strip()]


def _one_line(text: str) -> str:
    """Subjects are one line (a newline in a mail header is refused as header injection)."""
    return " ".join(str(text).split())[:255]


def _when(ts) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M UTC")


def describe(alert, base_url: str) -> list[str]:
    """The full text of one alert: what, how far off, why, what to check, where to look."""
    lines = [f"{alert.title}",
             f"   Severity: {alert.severity} · Type: {alert.type} · Detected: {_when(alert.detected_at)}",
             f"   Current: {_num(alert.current_value)} · Expected: {alert.expected_value or 'n/a'}",
             f"   Why: {alert.message}"]
    steps = _steps(alert.investigation)
    if steps:
        lines.append("   Suggested steps:")
        lines += [f"     - {s}" for s in steps]
    view = _url(base_url, alert.link)
    if view:
        lines.append(f"   View: {view}")
    lines.append(f"   Alert: {base_url}/alerts?id={int(alert.id)}")
    return lines


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(_sev=df["severity"].map(SEVERITY_ORDER).fillna(9)).sort_values(["_sev", "detected_at", "id"])


def render_immediate(group: pd.DataFrame, base_url: str, max_items: int = 10) -> tuple[str, str]:
    """Subject and body of the message for the new criticals of one rule."""
    group = _ordered(group)
    first = group.iloc[0]
    n = len(group)
    if n == 1:
        subject = f"[CRITICAL] {first.title}"
        intro = f"A critical alert was raised by rule {first.rule}."
    else:
        subject = f"[CRITICAL] {n} alerts from {first.rule}: {first.title} and {n - 1} more"
        intro = f"{n} critical alerts were raised by rule {first.rule} (first at {_when(group['detected_at'].min())})."
    lines = [intro, ""]
    for i, alert in enumerate(group.head(max_items).itertuples(), 1):
        body = describe(alert, base_url)
        lines += [f"{i}. {body[0]}", *body[1:], ""]
    if n > max_items:
        lines.append(f"... and {n - max_items} more: {base_url}/alerts")
    lines.append(f"Alert center: {base_url}/alerts")
    return _one_line(subject), "\n".join(lines)


def render_digest(alerts: pd.DataFrame, window_start: datetime, window_end: datetime, group: str,
                  base_url: str, top: int = 3) -> tuple[str, str]:
    """One hour's non-critical alerts, grouped by rule: count by severity and the top items."""
    alerts = _ordered(alerts)
    rules = alerts.groupby("rule", sort=False)
    span = f"{window_start:%Y-%m-%d %H:%M}–{window_end:%H:%M} UTC"
    audience = "" if group == "all" else f" ({group})"
    subject = f"Alert digest {span}{audience}: {len(alerts)} alert{'s' * (len(alerts) != 1)} from {rules.ngroups} rule{'s' * (rules.ngroups != 1)}"
    lines = [f"Open alerts raised up to {window_end:%H:%M} UTC that no earlier digest listed.", ""]
    for rule, items in sorted(rules, key=lambda kv: (-len(kv[1]), kv[0])):
        counts = ", ".join(f"{c} {s}" for s, c in items["severity"].value_counts().items())
        lines.append(f"== {rule} ({items['type'].iloc[0]}): {len(items)} alert{'s' * (len(items) != 1)} ({counts})")
        for alert in items.head(top).itertuples():
            view = _url(base_url, alert.link)
            lines.append(f"  - [{alert.severity}] {alert.title}: current {_num(alert.current_value)}, "
                         f"expected {alert.expected_value or 'n/a'}. {alert.message}")
            steps = _steps(alert.investigation)
            if steps:
                lines.append(f"    First step: {steps[0]}")
            lines.append(f"    {view or f'{base_url}/alerts?id={int(alert.id)}'}")
        if len(items) > top:
            lines.append(f"  ... and {len(items) - top} more")
        lines.append("")
    lines.append(f"Alert center: {base_url}/alerts")
    return _one_line(subject), "\n".join(lines)
