"""Alert emails as people expect from monitoring tools: an HTML table of the alerts with severity colours and
links, and an anomaly's stream as a small inline chart. Pure: alerts and series in, HTML and PNG bytes out;
the plain-text body (domain/alerting/notify.py) stays the alternative part for text-only clients.

    render_html(subject, intro, alerts, base_url, charts) -> str
    chart_png(series, start, end, expected) -> bytes   (matplotlib, Agg backend, ~600x180 px)
"""
from __future__ import annotations

import io
from html import escape

import pandas as pd

SEVERITY_COLORS = {"critical": ("#dc3545", "#fff"), "warning": ("#ffc107", "#212529"), "info": ("#0dcaf0", "#212529")}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _cell(text, style: str = "") -> str:
    return f'<td style="padding:6px 8px;border-bottom:1px solid #dee2e6;vertical-align:top;{style}">{text}</td>'


def _num(value) -> str:
    if value is None or value != value:
        return "n/a"
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:,.3g}"


def _url(base_url: str, link) -> str:
    link = str(link or "")
    return link if link.startswith(("http://", "https://")) else f"{base_url}{link if link.startswith('/') else '/' + link}"


def render_html(subject: str, intro: str, alerts: pd.DataFrame, base_url: str, charts: dict[int, str] | None = None,
                labels: dict[str, str] | None = None) -> str:
    """One table row per alert (columns id, severity, title, type, rule, current_value, expected_value, message,
    link, detected_at), most severe first; `charts` maps an alert id to the Content-ID of its inline chart."""
    charts, labels = charts or {}, labels or {}
    alerts = alerts.assign(_s=alerts["severity"].map(SEVERITY_ORDER).fillna(9)).sort_values(["_s", "detected_at", "id"])
    rows = []
    for a in alerts.itertuples():
        bg, fg = SEVERITY_COLORS.get(a.severity, ("#6c757d", "#fff"))
        badge = (f'<span style="background:{bg};color:{fg};border-radius:4px;padding:2px 6px;font-size:12px;'
                 f'font-weight:600">{escape(str(a.severity).capitalize())}</span>')
        title = (f'<a href="{escape(_url(base_url, f"/alerts?id={int(a.id)}"))}" style="color:#0d6efd;font-weight:600">'
                 f'{escape(str(a.title))}</a><div style="color:#6c757d;font-size:12px">'
                 f'{escape(labels.get(a.rule, str(a.rule)))} · {pd.Timestamp(a.detected_at):%Y-%m-%d %H:%M} UTC</div>'
                 f'<div style="font-size:13px;margin-top:4px">{escape(str(a.message))[:400]}</div>')
        if a.link and a.link == a.link:
            title += f'<div style="font-size:12px;margin-top:4px"><a href="{escape(_url(base_url, a.link))}">Open the view</a></div>'
        if int(a.id) in charts:
            title += (f'<div style="margin-top:6px"><img src="cid:{charts[int(a.id)]}" width="560" alt="chart of the '
                      f'stream around the anomaly" style="max-width:100%;border:1px solid #dee2e6"></div>')
        rows.append(f'<tr style="border-left:4px solid {bg}">{_cell(badge)}{_cell(title)}'
                    f'{_cell(escape(_num(a.current_value)), "text-align:right;white-space:nowrap")}'
                    f'{_cell(escape(str(a.expected_value or "n/a")), "white-space:nowrap")}</tr>')
    head = "".join(f'<th style="text-align:left;padding:6px 8px;border-bottom:2px solid #adb5bd;font-size:12px;'
                   f'color:#495057">{h}</th>' for h in ("Severity", "Alert", "Current", "Expected"))
    return _wrap(f'<!doctype html><html><body style="font-family:-apple-system,Segoe UI,Roboto,Arial,sans-serif;'
            f'color:#212529;margin:0;padding:16px"><h2 style="font-size:18px;margin:0 0 8px">{escape(subject)}</h2>'
            f'<p style="margin:0 0 12px;font-size:14px">{escape(intro)}</p>'
            f'<table style="border-collapse:collapse;width:100%;max-width:900px;font-size:14px">'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<p style="margin-top:16px;font-size:13px"><a href="{escape(base_url)}/alerts">Open the alert center</a></p>'
            f'</body></html>')


def _wrap(html: str, width: int = 500) -> str:
    """Lines under SMTP's 998-character limit (the 8-bit body is sent as is): a newline at a space or before a tag,
    which HTML reads as plain whitespace."""
    out, line = [], ""
    for token in html.replace("><", ">\n<").split("\n"):
        for word in token.split(" "):
            if line and len(line) + len(word) + 1 > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out.append(line)
        line = ""
    return "\n".join(out)


def chart_png(series: pd.Series, start, end, expected: float | None = None) -> bytes:
    """A small PNG of `series` (time-indexed) with the flagged window [start, end] shaded and the expected level."""
    import matplotlib
    matplotlib.use("Agg")  # no display on a worker; chosen before pyplot is imported
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 1.8), dpi=100)
    try:
        ax.plot(series.index, series.to_numpy(dtype=float), color="#0d6efd", linewidth=1.2)
        ax.axvspan(pd.Timestamp(start), pd.Timestamp(end), color="#dc3545", alpha=0.15, linewidth=0)
        inside = series[(series.index >= pd.Timestamp(start)) & (series.index <= pd.Timestamp(end))]
        ax.plot(inside.index, inside.to_numpy(dtype=float), "o", color="#dc3545", markersize=2.5)
        if expected is not None and expected == expected:
            ax.axhline(float(expected), color="#6c757d", linestyle="--", linewidth=0.8)
        ax.tick_params(labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.autofmt_xdate(rotation=0, ha="center")
        fig.tight_layout(pad=0.4)
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)
