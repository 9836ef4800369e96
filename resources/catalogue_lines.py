"""Where each table, key and array element of a catalogue TOML text stands, by line: tomllib reports none."""

from __future__ import annotations

import re

from resources.catalogue_values import Path

# ---------------------------------------------------------------- where a field stands in the text

_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|'[^']*'")
_MULTILINE_QUOTES = re.compile(r'"""|' + r"'''")
_KEY_PART = re.compile(r"\s*(?:\"((?:\\.|[^\"\\])*)\"|'([^']*)'|([A-Za-z0-9_-]+))\s*")


def _key_parts(text: str) -> tuple[str, ...] | None:
    """`a."b-c".d` -> ("a", "b-c", "d"); None when the text is no key."""
    parts, rest = [], text
    while (match := _KEY_PART.match(rest)) and match.end():
        parts.append(next(g for g in match.groups() if g is not None))
        rest = rest[match.end() :]
        if not rest.startswith("."):
            return tuple(parts) if not rest.strip() else None
        rest = rest[1:]
    return None


class Lines:
    """The line of every table header, key and multi-line array element, by concrete field path.

    tomllib reports no positions, so the raw text is scanned the way TOML nests tables.
    """

    def __init__(self, text: str) -> None:
        self.at: dict[Path, int] = {}
        self.counts: dict[Path, int] = {}
        self.table: Path = ()
        self.array: tuple[Path, int, int] | None = None  # open multi-line array: its path, depth, element
        in_string = False
        for number, raw in enumerate(text.splitlines(), start=1):
            if raw.count('"""') % 2 or raw.count("'''") % 2:
                if not in_string:  # the key opening a multi-line string stands on this line
                    self._scan(number, _MULTILINE_QUOTES.split(raw, maxsplit=1)[0] + '""')
                in_string = not in_string
            elif not in_string:
                self._scan(number, _STRING.sub('""', raw).split("#", 1)[0].strip())

    def _resolve(self, parts: tuple[str, ...]) -> Path:
        path: Path = ()
        for part in parts:
            path += (part,)
            if path in self.counts:  # an array of tables: the latest element is meant
                path += (self.counts[path] - 1,)
        return path

    def _scan(self, number: int, line: str) -> None:
        if self.array is not None:
            self._scan_array(number, line)
        elif line.startswith("[[") and (parts := _key_parts(line[2:].rstrip("]"))):
            node = self._resolve(parts[:-1]) + (parts[-1],)
            self.counts[node] = self.counts.get(node, 0) + 1
            self.table = node + (self.counts[node] - 1,)
            self.at.setdefault(node, number)
            self.at[self.table] = number
        elif line.startswith("[") and (parts := _key_parts(line[1:].rstrip("]"))):
            self.table = self._resolve(parts)
            self.at.setdefault(self.table, number)
        elif "=" in line and (parts := _key_parts(line.split("=", 1)[0])):
            path = self.table + parts
            self.at.setdefault(path, number)
            value = line.split("=", 1)[1]
            if value.strip().startswith("[") and value.count("[") > value.count("]"):
                self.array = (path, 0, -1)
                self._scan_array(number, value)

    def _scan_array(self, number: int, line: str) -> None:
        path, depth, element = self.array  # type: ignore[misc]
        for char in line:
            if char in "[{" and depth == 1:
                element += 1
                self.at.setdefault(path + (element,), number)
            depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(char, 0)
        self.array = (path, depth, element) if depth > 0 else None

    def of(self, path: Path) -> int:
        """The line of the field, else of the nearest table or key that holds it."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.at:
                return self.at[path[:end]]
        return 1
