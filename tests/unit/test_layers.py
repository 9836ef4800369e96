"""The import-linter contracts hold for the tree as it is, and break when an import that once ran back up returns."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "web", "notifications", "booking", "resources", "people", "infra")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def copy_of_the_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.po", "*.css"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True
    )


def add_import(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is not installed")
    return copy_of_the_tree(tmp_path)


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("people.api", "from notifications.service import calendar_feed_url", "people is not allowed to import notifications"),
        ("people.service", "from notifications import mail", "people is not allowed to import notifications"),
        ("booking.service", "from notifications import store", "booking is not allowed to import notifications"),
        ("booking.waitlists.offers", "from booking.seasons import store", "booking.waitlists is not allowed to import booking.seasons"),
        ("web.frame", "from people.api import bearer_or_cookie", "web is not allowed to import people.api"),
        ("web.pages", "from booking.seasons.store import Season", "web is not allowed to import booking.seasons.store"),
        ("infra.database", "import config.app", "infra is not allowed to import config"),
        ("booking.engine", "from booking import service", "booking.engine is not allowed to import booking.service"),
        ("resources.store", "from resources import service", "resources.store is not allowed to import resources.service"),
    ],
)
def test_an_import_that_runs_back_up_breaks_a_contract(tree: Path, module: str, line: str, broken: str) -> None:
    add_import(tree, module, line)
    result = lint(tree)
    assert result.returncode != 0
    assert broken in result.stdout
