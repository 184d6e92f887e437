"""mkdocs hook: every repository path a page names in backticks must exist.

A page that says `src/gourmet/db/plan.py` holds the plan is wrong the day the file moves. So the
build warns (and ``mkdocs build --strict`` fails) for each backticked path under one of the
repository's top folders that is not there, in every page and in the README. Paths git ignores
(outputs such as ``bench/results/``) are written by commands, not kept, and are not checked.
Paths inside fenced code blocks (commands, layouts) are not checked either.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.repository_paths")

ROOTS = ("src", "tests", "deploy", "docs", "bench", "tools")
FENCE = re.compile(r"^( {0,3})(```|~~~).*?^\1\2[^\n]*$", re.DOTALL | re.MULTILINE)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
PATH = re.compile(r"(?:" + "|".join(ROOTS) + r")/\S*")
BRACES = re.compile(r"\{([^{}]*)\}")
PLACEHOLDER = re.compile(r"<[^<>/]*>")


def referenced_paths(markdown: str) -> list[str]:
    """The repository paths named in backticks, outside fenced code, in order of appearance."""
    text = FENCE.sub("", markdown)
    found = []
    for span in CODE_SPAN.findall(text):
        span = span.strip()
        if PATH.fullmatch(span):
            found.append(span.split("::")[0].rstrip(".,:;"))
    return found


def _expanded(path: str) -> Iterator[str]:
    """``web/{a,b}/`` names two folders; ``<name>.png`` stands for any name."""
    match = BRACES.search(path)
    if match is None:
        yield PLACEHOLDER.sub("*", path)
        return
    for choice in match.group(1).split(","):
        yield from _expanded(path[: match.start()] + choice + path[match.end() :])


def _exists(root: Path, path: str) -> bool:
    if "*" in path:
        return any(root.glob(path.rstrip("/")))
    return (root / path).exists()


def _ignored(root: Path, paths: list[str]) -> set[str]:
    try:
        answer = subprocess.run(
            ["git", "check-ignore", "--no-index", "--stdin"],
            cwd=root,
            input="\n".join(paths),
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return set()
    return set(answer.stdout.split())


def missing_paths(root: Path, markdown: str) -> list[str]:
    """The paths ``markdown`` names that the repository under ``root`` does not hold."""
    wanted = {p: list(_expanded(p)) for p in referenced_paths(markdown)}
    absent = {p: [e for e in each if not _exists(root, e)] for p, each in wanted.items()}
    absent = {p: each for p, each in absent.items() if each}
    if not absent:
        return []
    ignored = _ignored(root, [e for each in absent.values() for e in each])
    return [p for p, each in absent.items() if any(e not in ignored for e in each)]


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_pre_build(config: Any) -> None:
    root = _root(config)
    readme = root / "README.md"
    if readme.exists():
        for path in missing_paths(root, readme.read_text(encoding="utf-8")):
            log.warning("README.md names `%s`, which is not in the repository", path)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for path in missing_paths(_root(config), markdown):
        log.warning("%s names `%s`, which is not in the repository", page.file.src_uri, path)
    return markdown
