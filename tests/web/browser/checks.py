"""What every page of a journey must pass, as a person on a phone would notice it.

- ``guard(page, origin)``: records console errors, script errors and requests to any host but
  the app's (those are refused); ``assert_clean(page)`` fails on any of them.
- ``phone(page)``: at 390×844 and 320×640 no sideways scroll, tap targets ≥ 44 px, text in the
  page ≥ 16 px.
- ``axe_check(page)``: axe-core at 390×844 and 1366×900, failing on serious or critical
  violations.
- ``weigh(page)``: HTML + CSS + JS of the page as loaded, ≤ 60 KB.
- ``shot(page, name)``: test-artifacts/<name>.png at phone size (docs/screenshots/ under
  ``make screenshots``).
- ``look(page, name)``: all of the above, for one step of a journey.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

ROOT = Path(__file__).resolve().parents[3]
# Every run writes its pictures outside git; `make screenshots` refreshes the README's tour.
SCREENSHOTS = ROOT / (
    "docs/screenshots" if os.environ.get("SPONSOR_SCREENSHOTS") == "docs" else "test-artifacts"
)
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1366, "height": 900}
MAX_PAGE_BYTES = 60 * 1024
MIN_TARGET_PX = 44
MIN_TEXT_PX = 16
BLOCKING = ("serious", "critical")
AXE_TIMEOUT_MS = 60_000  # a run that never settles fails the step instead of hanging the suite

_axe = Axe()
_guards: dict[int, dict] = {}
REPORT: list[dict] = []


def guard(page, origin: str) -> None:
    """Watch ``page``: console errors, uncaught script errors, requests that leave ``origin``."""
    seen = {"console": [], "script": [], "outside": []}
    _guards[id(page)] = seen

    def console(message):
        if message.type == "error":
            seen["console"].append(f"{message.text} ({page.url})")

    def refuse(route):
        seen["outside"].append(route.request.url)
        route.abort()

    page.on("console", console)
    page.on("pageerror", lambda error: seen["script"].append(str(error)))
    page.route(lambda url: _elsewhere(url, origin), refuse)


def _elsewhere(url: str, origin: str) -> bool:
    if url.startswith(("data:", "about:", "blob:")):
        return False
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" != origin


def assert_clean(page) -> None:
    """Fail if the page logged a console error, threw, or asked another host for anything."""
    seen = _guards.get(id(page), {})
    problems = {kind: found for kind, found in seen.items() if found}
    assert not problems, f"the page was not clean: {problems}"


def phone(page) -> None:
    """No sideways scroll, 44 px tap targets and 16 px text at 390 and 320 px wide."""
    try:
        for size in (PHONE, SMALL_PHONE):
            page.set_viewport_size(size)
            width = size["width"]
            scroll, client, wide = page.evaluate(_SIDEWAYS)
            assert scroll <= client, (
                f"{page.url} scrolls sideways at {width} px ({scroll} > {client}); "
                f"wider than the screen: {wide}"
            )
            small = page.evaluate(_SMALL_TARGETS, MIN_TARGET_PX)
            assert not small, f"{page.url} at {width} px: tap targets under 44 px: {small}"
            tiny = page.evaluate(_SMALL_TEXT, MIN_TEXT_PX)
            assert not tiny, f"{page.url} at {width} px: text under 16 px: {tiny}"
    finally:
        page.set_viewport_size(PHONE)


def axe_check(page) -> dict[str, list[str]]:
    """axe-core at phone and desktop size; fails on any serious or critical violation.

    Returns the ids of all violations found (any impact), by size."""
    found: dict[str, list[str]] = {}
    try:
        for label, size in (("390x844", PHONE), ("1366x900", DESKTOP)):
            page.set_viewport_size(size)
            page.evaluate(_axe.axe_script)
            violations = page.evaluate(_AXE_RUN, AXE_TIMEOUT_MS)["violations"]
            found[label] = [f"{v['id']} ({v['impact']})" for v in violations]
            blocking = [v for v in violations if v["impact"] in BLOCKING]
            assert not blocking, f"{page.url} at {label}:\n" + "\n".join(
                f"- {v['id']} ({v['impact']}): {v['help']}: "
                + "; ".join(n["html"][:160] for n in v["nodes"][:3])
                for v in blocking
            )
    finally:
        page.set_viewport_size(PHONE)
    return found


def weigh(page) -> tuple[int, list]:
    """Bytes of the document and every same-origin file it loaded (total, [(path, bytes)]);
    fails over 60 KB."""
    parts = page.evaluate(_WEIGHT)
    total = sum(size for _, size in parts)
    assert total <= MAX_PAGE_BYTES, f"{page.url} weighs {total} bytes: {parts}"
    return total, parts


def shot(page, name: str, *, show=None) -> Path:
    """docs/screenshots/<name>.png of what the phone's screen shows (``show``: scroll to it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if show is not None:
        show.scroll_into_view_if_needed()
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def look(page, name: str, *, show=None) -> None:
    """Everything one step of a journey must pass, then its screenshot."""
    started = time.monotonic()
    page.wait_for_load_state("load")
    assert_clean(page)
    weight, parts = weigh(page)
    phone(page)
    found = axe_check(page)
    shot(page, name, show=show)
    seconds = round(time.monotonic() - started, 2)
    where = urlsplit(page.url).path
    REPORT.append(
        {"step": name, "path": where, "bytes": weight, "files": parts, "axe": found, "s": seconds}
    )
    assert_clean(page)


def summary_line() -> str:
    """The session's checks in one line: steps, axe runs and findings, the heaviest page."""
    runs = sum(len(r["axe"]) for r in REPORT)
    found = sum(len(v) for r in REPORT for v in r["axe"].values())
    heaviest = max(REPORT, key=lambda r: r["bytes"])
    return (
        f"browser checks: {len(REPORT)} steps, {runs} axe runs, {found} violations "
        f"(none serious or critical), heaviest page {heaviest['bytes'] / 1024:.1f} KB "
        f"({heaviest['step']}); see test-artifacts/browser-pages.json"
    )


def write_report(path: Path) -> None:
    """The session's measurements as JSON (pages, weights, axe findings)."""
    if not REPORT:
        return
    path.parent.mkdir(exist_ok=True)
    summary = {
        "steps": len(REPORT),
        "axe_runs": sum(len(r["axe"]) for r in REPORT),
        "violations": sum(len(v) for r in REPORT for v in r["axe"].values()),
        "heaviest_bytes": max(r["bytes"] for r in REPORT),
        "pages": REPORT,
    }
    path.write_text(json.dumps(summary, indent=2))


# -- keyboard ----------------------------------------------------------------------------------


def tab_to(page, target, *, limit: int = 80) -> None:
    """Press Tab until ``target`` (a locator) has the focus, and check the focus is visible.

    A radio button is reached as people do: Tab into its group, then the arrow keys (which
    also choose it)."""
    radio = target.evaluate("el => el.type === 'radio' ? el.name : null")
    for _ in range(limit):
        page.keyboard.press("Tab")
        if radio and page.evaluate(_IN_GROUP, radio):
            for _ in range(12):
                if target.evaluate("el => el === document.activeElement"):
                    break
                page.keyboard.press("ArrowDown")
        if target.evaluate("el => el === document.activeElement"):
            outline = target.evaluate("el => getComputedStyle(el).outlineStyle")
            assert outline != "none", f"no visible focus on {target}"
            return
    raise AssertionError(f"Tab never reached {target} on {page.url}")


_IN_GROUP = (
    "name => document.activeElement.type === 'radio' && document.activeElement.name === name"
)


# -- the scripts the checks run in the page ----------------------------------------------------

_DESCRIBE = """
const describe = el => {
  const text = (el.innerText || el.value || '').trim().slice(0, 40);
  const named = typeof el.className === 'string' && el.className;
  const cls = named ? '.' + el.className.split(' ').join('.') : '';
  return `${el.tagName.toLowerCase()}${cls} "${text}"`;
};
"""

_SIDEWAYS = (
    "() => {"
    + _DESCRIBE
    + """
  const width = document.documentElement.clientWidth;
  const wide = [...document.body.querySelectorAll('*')]
    .filter(el => el.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5).map(el => describe(el) + ' right=' + Math.round(el.getBoundingClientRect().right));
  return [document.documentElement.scrollWidth, width, wide];
}"""
)

# Links inside a sentence are exempt (WCAG 2.5.8's inline exception); everything else a finger
# taps must be 44 px both ways.
_SMALL_TARGETS = (
    "(min) => {"
    + _DESCRIBE
    + """
  const out = [];
  for (const el of document.body.querySelectorAll('a[href], button, summary, [role=button]')) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || r.right <= 0) continue;
    if (el.tagName === 'A' && style.display === 'inline') {
      const block = el.parentElement.closest('p, li, dd, td, span');
      if (block && block.textContent.trim().length > el.textContent.trim().length) continue;
    }
    if (r.width < min - 0.5 || r.height < min - 0.5)
      out.push(`${describe(el)} ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return out;
}"""
)

_SMALL_TEXT = (
    "(min) => {"
    + _DESCRIBE
    + """
  const out = [];
  for (const el of document.querySelectorAll('main *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || el.closest('.visually-hidden')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < min - 0.01) out.push(`${describe(el)} ${px}px`);
  }
  const body = parseFloat(getComputedStyle(document.body).fontSize);
  if (body < min) out.push(`body ${body}px`);
  return out;
}"""
)

_AXE_RUN = """limit => Promise.race([
  axe.run(document, {resultTypes: ['violations']}),
  new Promise((_, fail) => setTimeout(() => fail(new Error(`axe ran over ${limit} ms`)), limit)),
])"""

_WEIGHT = """() => {
  const size = e => Math.max(e.transferSize || 0, e.encodedBodySize || 0);
  const doc = performance.getEntriesByType('navigation')[0];
  const files = performance.getEntriesByType('resource')
    .filter(e => e.name.startsWith(location.origin))
    .map(e => [e.name.replace(location.origin, ''), size(e)]);
  return [[location.pathname, size(doc)], ...files];
}"""
