"""The stylesheets lay pages out by logical sides (start and end, not left and right), so a right-to-left page mirrors."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).parents[2] / "web" / "static"
# A property naming a physical side, a physical alignment, or a shorthand whose left and right differ.
PHYSICAL = re.compile(
    r"(?<![\w-])(?:[\w-]+-(?:left|right|top|bottom)|left|right|top|bottom)\s*:|(?:text-align|float|clear)\s*:\s*(?:left|right)"
)
FOUR_SIDES = re.compile(r"(?<![\w-])(?:margin|padding|inset)\s*:\s*(\S+)\s+(\S+)\s+(\S+)\s+([^;}\s]+)")


def declarations(path: Path) -> list[str]:
    without_comments = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.DOTALL)
    return [d.strip() for block in re.findall(r"\{([^{}]*)\}", without_comments) for d in block.split(";") if d.strip()]


def test_every_stylesheet_names_sides_by_start_and_end_so_arabic_pages_mirror():
    sheets = sorted(STATIC.glob("*.css"))
    assert sheets
    physical = [f"{s.name}: {d}" for s in sheets for d in declarations(s) if PHYSICAL.search(d)]
    lopsided = [f"{s.name}: {d}" for s in sheets for d in declarations(s) if (m := FOUR_SIDES.search(d)) and m[2] != m[4]]
    assert physical + lopsided == []


def test_the_check_finds_a_physical_side_where_one_is_written():
    assert PHYSICAL.search("padding-left: 1rem") and PHYSICAL.search("text-align: right") and PHYSICAL.search("left: 0")
    assert not PHYSICAL.search("padding-inline-start: 1rem") and not PHYSICAL.search("vertical-align: top")
    assert FOUR_SIDES.search("margin: 0 0.5rem 0.5rem 0")[2] == "0.5rem"
