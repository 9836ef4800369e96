"""The page sweep's eyes: one tab per person, each page loaded once per language and looked at on a wide screen and a
phone by its width, and by axe-core (WCAG 2.1 A and AA) on the phone in every language and wide in one language of each
direction, with a screenshot of what a person on the phone sees."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

from tests.e2e import browser
from tests.e2e.sweep_world import Page

WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})  # the scripts a reader reads from the right
SHOWN = frozenset({"nb", "ar"})  # screenshots on the phone in one language of each direction; every language is checked
EMAILS = {"resident": "amina@example.no", "admin": "lars@example.no", "staff": "stine@knutepunkt.no", "late": "ole@example.no"}
# The innermost elements that reach past the screen's edge (either edge: a right-to-left page overflows to the left).
WIDEST = """() => [...document.querySelectorAll('body *')].filter(e => { const r = e.getBoundingClientRect();
  return (r.right > innerWidth + 1 || r.left < -1) && ![...e.children].some(c => { const q = c.getBoundingClientRect();
  return q.right > innerWidth + 1 || q.left < -1; }); })
  .slice(0, 5).map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().width)}px`)"""


def tabs(chromium, site, viewers: dict[str, int]) -> dict[str, list]:
    """Tabs per person (as many as asked), each signed in once; the sweep reuses them for every page and language."""
    found: dict[str, list] = {}
    for viewer, count in sorted(viewers.items()):
        for _ in range(count):
            context = chromium.new_context(base_url=site["base"], viewport=WIDE, locale="nb-NO", timezone_id="Europe/Oslo")
            context.set_default_timeout(20_000)
            found.setdefault(viewer, []).append(context.new_page())
            if viewer in EMAILS:
                browser.sign_in_at(found[viewer][-1], browser.sign_in_path(site["db"], EMAILS[viewer]))
    return found


def address(path: str, language: str) -> str:
    return path + ("&" if "?" in path else "?") + f"lang={language}"


def look_at_all(tabs: dict[str, list], pages: list[Page], language: str) -> list[str]:
    """Every page in one language. Each tab works through its person's pages while axe-core runs in the others (each tab
    has its own renderer), so the sweep takes the time of the longest queue rather than of all the pages one by one."""
    lanes = []
    for viewer, own in tabs.items():
        mine = [p for p in pages if p.viewer == viewer]
        lanes += [(tab, deque(mine[n :: len(own)])) for n, tab in enumerate(own)]
    running: dict[int, Iterator[list[str]]] = {}
    problems: list[str] = []
    while running or any(queue for _, queue in lanes):
        for n, (tab, queue) in enumerate(lanes):
            if n not in running and queue:
                running[n] = look_at(tab, queue.popleft(), language)
        for n in list(running):
            try:
                problems += next(running[n])
            except StopIteration:
                del running[n]
    return problems


def look_at(tab, page: Page, language: str) -> Iterator[list[str]]:
    """What is wrong with the page in this language, at both widths; it yields while axe-core works in the tab."""
    name = f"{page.viewer} {page.path} [{language}]"
    tab.set_viewport_size(WIDE)
    answer = tab.goto(address(page.path, language))
    kind = answer.headers.get("content-type", "")
    if answer.status >= 500 or not kind.startswith("text/html"):
        yield [f"{name}: answered {answer.status} {kind}, not a page"]
        return
    yield said_in(tab, language, name)
    for size in (WIDE, PHONE):
        tab.set_viewport_size(size)
        if size is WIDE and language not in SHOWN:  # a wide screen's axe findings do not change with the words: two languages hold it
            yield too_wide(tab, f"{name} at {size['width']} px")
            continue
        start_axe(tab)
        yield []
        yield axe_finds(tab, f"{name} at {size['width']} px") + too_wide(tab, f"{name} at {size['width']} px")
    if language in SHOWN:
        tab.screenshot(path=str(shot_of(page, language)), full_page=True)


def said_in(tab, language: str, name: str) -> list[str]:
    html = tab.locator("html")
    lang, direction = html.get_attribute("lang"), html.get_attribute("dir") or "ltr"
    wanted = "rtl" if language in RIGHT_TO_LEFT else "ltr"
    return [] if (lang, direction) == (language, wanted) else [f"{name}: <html lang={lang} dir={direction}>, not {language} {wanted}"]


def start_axe(tab) -> None:
    """axe-core starts on the page as it is laid out now; the tab keeps its answer for axe_finds to collect."""
    from axe_playwright_python.sync_playwright import Axe

    if tab.evaluate("typeof axe") == "undefined":  # once per load: the script is large
        tab.evaluate(Axe().axe_script)
    tab.evaluate("options => { window.axeFound = axe.run(document, options); }", browser.WCAG_21_AA)


def axe_finds(tab, name: str) -> list[str]:
    found = tab.evaluate("() => window.axeFound")
    return [f"{name}: axe {v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})" for v in found["violations"]]


def too_wide(tab, name: str) -> list[str]:
    width, screen = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return [] if width <= screen else [f"{name}: {width} px wide on a {screen} px screen: {tab.evaluate(WIDEST)}"]


def shot_of(page: Page, language: str):
    browser.SCREENSHOTS.mkdir(exist_ok=True)
    path = re.sub(r"/[\w-]{20,}", "/token", page.path)  # an invitation's token changes from run to run; its name should not
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "front"
    return browser.SCREENSHOTS / f"sweep-{language}-{page.viewer}-{slug[:60]}.png"
