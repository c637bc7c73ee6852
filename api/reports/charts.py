"""Server-side SVG charts (pygal) for each report, sized and worded for a phone; no JavaScript,
no CDN. Labels are in the reader's language (charts are drawn inside a request)."""

from __future__ import annotations

import html
import re
import sys
from functools import cache

import pygal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from pygal.style import Style

# pygal appends a legacy ``find_module``-only finder (for map plugins we never use) to
# sys.meta_path; every later failed optional import then raises ImportWarning. Take it out.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

# Drawn at phone width: an SVG scales with its box, so a 360-unit chart keeps its 16-unit text
# at >= 13 px on a 320-390 px phone (a 720-unit chart shrank it to about 6 px).
WIDTH, HEIGHT = 360, 300
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2433",
    foreground_strong="#1d2433",
    foreground_subtle="#5b6475",
    colors=("#2456a6", "#c0504d", "#8a4b00", "#4f8a3c", "#7a5aa6"),
    font_family="system-ui, sans-serif",
    label_font_size=16,
    major_label_font_size=16,
    legend_font_size=16,
    title_font_size=16,
    value_font_size=16,
    value_label_font_size=16,
    no_data_font_size=16,
    tooltip_font_size=16,
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_STYLE = re.compile(r"<style\b.*?</style>", re.S)
_DESC = re.compile(r"<desc\b.*?</desc>", re.S)
_TITLE = re.compile(r"<title>[^<]*</title>|<!--.*?-->", re.S)  # hover text; the <svg> is labelled
_COORD = re.compile(r"(\d\.\d)\d+")
STATUS_WORDS = {
    "accepted": _l("said yes"),
    "declined": _l("said no"),
    "expired": _l("ran out of time"),
    "pending": _l("waiting"),
    "withdrawn": _l("withdrawn"),
}
DIMENSION_WORDS = {
    "fellowship": _l("Fellowship"),
    "language": _l("Language"),
    "gender_rule": _l("Same-gender custom"),
}
GENDER_RULE_WORDS = {
    "program_default": _l("follows the group's custom"),
    "same": _l("asked for the same gender"),
    "any": _l("any gender"),
}


def cell_words(dimension: str, value: str) -> str:
    """A breakdown cell in words: "Language: Spanish", "Same-gender custom: any gender"."""
    if dimension == "language":
        from api.web.wording import language_name

        value = language_name(value)
    elif dimension == "gender_rule":
        value = str(GENDER_RULE_WORDS.get(value, value))
    name = DIMENSION_WORDS.get(dimension, dimension)
    return _("%(dimension)s: %(value)s", dimension=name, value=value)


def _config(**kw) -> dict:
    return {
        "js": [],  # pygal's default pulls tooltips from a CDN; we serve none
        "disable_xml_declaration": True,
        "style": STYLE,
        "width": WIDTH,
        "height": HEIGHT,
        "print_values": False,
        "show_legend": True,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 2,
        "truncate_label": 24,
        "truncate_legend": 30,
        "margin": 6,
        "no_prefix": True,  # one shared stylesheet for all charts (chart_styles)
        **kw,
    }


# What pygal writes that no style rule or reader uses: its tooltip and legend-toggle hooks
# (classes its JavaScript looks for), empty ids and classes, square corners stated, and the
# classes of bars and rectangles nothing styles, and the empty tooltip and title groups. About
# 7 KB on the dashboard.
_NOISE = (
    (" tooltip-trigger", ""),
    (" activate-serie", ""),
    (' class=""', ""),
    (' id=""', ""),
    (' rx="0" ry="0"', ""),
    ("<defs></defs>", ""),
    ('<g class="bar">', "<g>"),
    ('<g class="bars">', "<g>"),
    ('class="rect reactive"', 'class="reactive"'),
    ('<g class="guides">', "<g>"),
    ('<g class="titles" />', ""),
)
_TOOLTIP = re.compile(
    r'<g transform="[^"]*" class="plot tooltip-overlay"><g [^>]*class="tooltip">.*?</g></g>', re.S
)


def _svg(chart, label: str) -> Markup:
    # Every chart shares one stylesheet (chart_styles, once per page) and drops the tooltips
    # only pygal's JavaScript shows: the dashboard stays under 60 KB.
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    svg = _TITLE.sub("", _DESC.sub("", _STYLE.sub("", svg)))
    svg = _COORD.sub(r"\1", svg)  # 0.1 unit is finer than a pixel on any screen
    for noise, kept in _NOISE:  # hooks of pygal's JavaScript and empty attributes
        svg = svg.replace(noise, kept)
    svg = _TOOLTIP.sub("", svg)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(svg)  # our own rendering of numbers and escaped labels


@cache
def chart_styles() -> Markup:
    """The charts' one stylesheet (pygal's CSS for STYLE), to put once on a page with charts."""
    chart = pygal.Bar(**_config())
    chart.add("", [1])
    css = "".join(_STYLE.findall(chart.render(is_unicode=True)))
    # Written for inside an SVG: un-escape it for an HTML page, and give the rules that had
    # the chart's own id (empty with no_prefix) the class every chart carries.
    css = re.sub(r"(^|[}>])\s*\{", r"\1.pygal-chart{", html.unescape(css))
    css = _UNUSED_RULE.sub("", css)
    # Texts inherit the chart's font: a rule need not say it again.
    font = re.search(r"\.pygal-chart\{[^}]*?(font-family:[^;}]*)", css)
    if font:
        css = css.replace("{" + font.group(1) + ";", "{")
    return Markup(css)


# Rules for what these charts never draw without pygal's JavaScript, or never draw at all
# (tooltips, hover and active states, their transitions, maps, gauges); a selector list is
# dropped only when every selector in it is of these. About 1 KB off every page with charts
# (the dashboard stays under 60 KB).
_UNUSED_RULE = re.compile(
    r"[^{}>]*(?:tooltip|:hover|\.active|map-element|gauge|\.showable|\.bound|\.max-value"
    r"|\.ci\b|bg-lines)[^{}>]*\{[^{}]*\}"
    r"|path,line,rect,circle\{[^{}]*transition[^{}]*\}"
)


def queue_chart(result: dict) -> Markup:
    chart = pygal.HorizontalBar(**_config(show_legend=False, truncate_label=30))
    rows = result["queue"][:10][::-1]  # pygal draws the first row at the bottom
    chart.x_labels = [r.get("label") or r["display_name"] for r in rows]
    chart.add(_("days waiting"), [r["waiting_days"] for r in rows])
    return _svg(chart, _("Days each newcomer has waited, the longest ten"))


def timings_chart(result: dict) -> Markup:
    chart = pygal.Bar(**_config(y_title=_("days")))
    stages = result["stages"]
    to_days = [24.0 if s["unit"] == "hours" else 1.0 for s in stages]
    chart.x_labels = [str(STAGE_SHORT.get(s["stage"], s["stage"])) for s in stages]
    for key, name in (("median", _("typical")), ("p90", _("slowest tenth"))):
        values = [
            None if s[key] is None else round(s[key] / f, 2)
            for s, f in zip(stages, to_days, strict=True)
        ]
        chart.add(name, values)
    return _svg(chart, _("Typical and slow days from asking to each step"))


STAGE_SHORT = {
    "to_shortlist": _l("shortlist"),
    "to_accepted": _l("a sponsor"),
    "to_first_contact": _l("first talk"),
}


def proposals_chart(result: dict) -> Markup:
    chart = pygal.StackedBar(**_config(x_title=_("sponsees the sponsor had then")))
    bands = result["by_load"]
    chart.x_labels = [str(b["load_band"]) for b in bands]
    for status in ("accepted", "declined", "expired", "pending", "withdrawn"):
        chart.add(str(STATUS_WORDS[status]), [b[status] for b in bands])
    return _svg(chart, _("How asks ended, by how many sponsees the sponsor had"))


def survival_chart(result: dict) -> Markup:
    chart = pygal.XY(
        **_config(
            range=(0, 100),
            show_dots=False,
            show_legend=False,
            x_title=_("days since the pair started"),
            y_title=_("percent still together"),
        )
    )
    chart.value_formatter = lambda v: f"{v:.0f}%"
    chart.add(
        _("still together"), [(c["day"], round(c["surviving"] * 100, 1)) for c in result["curve"]]
    )
    return _svg(chart, _("Percent of pairs still together, by days since they started"))


def pool_chart(result: dict) -> Markup:
    chart = pygal.Bar(**_config(show_legend=False, x_title=_("sponsees and asks waiting")))
    chart.x_labels = [str(d["load"]) for d in result["load_distribution"]]
    chart.add(_("sponsors"), [d["sponsors"] for d in result["load_distribution"]])
    return _svg(chart, _("How many sponsors have each number of sponsees and asks waiting"))


def flags_chart(result: dict) -> Markup:
    chart = pygal.Bar(**_config())
    chart.x_labels = [_("level %(level)d", level=row["level"]) for row in result["levels"]]
    for key, name in (
        ("opened", _("reached")),
        ("resolved", _("settled")),
        ("open_now", _("open now")),
    ):
        chart.add(name, [row[key] for row in result["levels"]])
    return _svg(chart, _("Reminders to pairs that went quiet, by level"))


def milestones_chart(result: dict) -> Markup:
    chart = pygal.Bar(**_config(show_legend=False, x_label_rotation=0))
    months = result["months"][-12:]
    chart.x_labels = [m["month"][2:] for m in months]  # "26-11": short enough for a phone
    chart.add(_("milestones reached"), [m["count"] for m in months])  # hidden ones: no bar
    return _svg(chart, _("Milestones members reached, per month (small numbers hidden)"))


CHARTS = {
    "queue": queue_chart,
    "timings": timings_chart,
    "proposals": proposals_chart,
    "survival": survival_chart,
    "pool": pool_chart,
    "flags": flags_chart,
    # "breakdowns" is a list of HTML bars in dashboard/overview.html: its long group names
    # ("Same-gender custom: follows the group's custom") left no room for an SVG's bars.
    "milestones": milestones_chart,
}
