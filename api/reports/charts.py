"""Server-side SVG charts (pygal) for each report; no JavaScript, no CDN."""

from __future__ import annotations

import re
import sys

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal appends a legacy ``find_module``-only finder (for map plugins we never use) to
# sys.meta_path; every later failed optional import then raises ImportWarning. Take it out.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2433",
    foreground_strong="#1d2433",
    foreground_subtle="#5b6475",
    colors=("#2456a6", "#c0504d", "#8a4b00", "#4f8a3c", "#7a5aa6"),
    font_family="system-ui, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    title_font_size=15,
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


def _config(**kw) -> dict:
    return {
        "js": [],  # pygal's default pulls tooltips from a CDN; we serve none
        "disable_xml_declaration": True,
        "style": STYLE,
        "width": 720,
        "height": 320,
        "print_values": False,
        "show_legend": True,
        "legend_at_bottom": True,
        "truncate_label": 18,
        **kw,
    }


def _svg(chart, label: str) -> Markup:
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return Markup(svg)  # our own rendering of numbers and escaped labels


def queue_chart(result: dict) -> Markup:
    chart = pygal.HorizontalBar(**_config(title="Days waiting (open requests)", show_legend=False))
    rows = result["queue"][:15][::-1]  # pygal draws the first row at the bottom
    chart.x_labels = [f"{r['display_name']} ({r['request']})" for r in rows]
    chart.add("days waiting", [r["waiting_days"] for r in rows])
    return _svg(chart, "Days each open request has waited")


def timings_chart(result: dict) -> Markup:
    chart = pygal.Bar(**_config(title="Time from request (days)"))
    stages = result["stages"]
    to_days = [24.0 if s["unit"] == "hours" else 1.0 for s in stages]
    chart.x_labels = [s["label"].removeprefix("Request → ") for s in stages]
    for key in ("median", "p90"):
        values = [
            None if s[key] is None else round(s[key] / f, 2)
            for s, f in zip(stages, to_days, strict=True)
        ]
        chart.add(key, values)
    return _svg(chart, "Median and 90th percentile days from request to each stage")


def proposals_chart(result: dict) -> Markup:
    chart = pygal.StackedBar(**_config(title="Proposals by sponsor load at the time"))
    bands = result["by_load"]
    chart.x_labels = [f"{b['load_band']} sponsees" for b in bands]
    for status in ("accepted", "declined", "expired", "pending", "withdrawn"):
        chart.add(status, [b[status] for b in bands])
    return _svg(chart, "Proposal outcomes by sponsor load band")


def survival_chart(result: dict) -> Markup:
    chart = pygal.XY(
        **_config(
            title="Share of pairs still active (Kaplan–Meier)",
            range=(0, 1),
            show_dots=False,
            show_legend=False,
        )
    )
    chart.add("still active", [(c["day"], c["surviving"]) for c in result["curve"]])
    return _svg(chart, "Kaplan–Meier survival curve of sponsorships by day")


def pool_chart(result: dict) -> Markup:
    chart = pygal.Bar(**_config(title="Sponsors by current load", show_legend=False))
    chart.x_labels = [str(d["load"]) for d in result["load_distribution"]]
    chart.add("sponsors", [d["sponsors"] for d in result["load_distribution"]])
    return _svg(chart, "Number of sponsors at each load")


def flags_chart(result: dict) -> Markup:
    chart = pygal.Bar(**_config(title="Missed-contact flags by level"))
    chart.x_labels = [f"level {row['level']}" for row in result["levels"]]
    for key in ("opened", "resolved", "open_now"):
        chart.add(key.replace("_", " "), [row[key] for row in result["levels"]])
    return _svg(chart, "Flags opened, resolved and open now, by level")


def breakdowns_chart(result: dict) -> Markup:
    chart = pygal.HorizontalBar(
        **_config(title="Median wait in days (suppressed cells left out)", show_legend=False)
    )
    cells = [c for c in result["cells"] if not c["suppressed"]][::-1]
    chart.x_labels = [f"{c['dimension'].replace('_', ' ')}: {c['value']}" for c in cells]
    chart.add("median wait (days)", [c["median_wait_days"] for c in cells])
    return _svg(chart, "Median wait in days by fellowship, language and gender rule")


CHARTS = {
    "queue": queue_chart,
    "timings": timings_chart,
    "proposals": proposals_chart,
    "survival": survival_chart,
    "pool": pool_chart,
    "flags": flags_chart,
    "breakdowns": breakdowns_chart,
}
