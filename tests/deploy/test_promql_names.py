"""The series names a PromQL expression uses, with the labels each is matched on: what
tests/deploy/test_rules.py checks against the metrics the app exports."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

# Words of PromQL that look like identifiers but name no series.
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}


@dataclass
class Selector:
    """A series name used in an expression and the label matchers it was used with."""

    name: str
    exact: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    labels: set[str] = field(default_factory=set)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.$])([a-zA-Z_:][\w:]*)")


def selectors(expr: str) -> dict[str, Selector]:
    """The series names in a PromQL expression, with the labels each is matched on.

    Strings, label matchers, grouping clauses (``by (...)``, ``on (...)``), ranges and
    durations are removed first; every identifier left that is not a function call (followed
    by ``(``) or a keyword is a series name. This finds names followed by ``{``, ``[``,
    whitespace, ``)`` or the end alike.
    """
    found: dict[str, Selector] = {}
    matchers: list[str] = []  # the insides of {...}, replaced by {#index} in the expression

    def hide_matchers(match: re.Match[str]) -> str:
        matchers.append(match.group(1))
        return f"{{#{len(matchers) - 1}}}"

    masked = re.sub(r"\{([^{}]*)\}", hide_matchers, expr)
    masked = _STRING.sub('""', masked)
    masked = _GROUPING.sub(" ", masked)
    masked = re.sub(r"\[[^\]]*\]", "[]", masked)
    for match in _IDENTIFIER.finditer(masked):
        name = match.group(1)
        rest = masked[match.end() :].lstrip()
        if rest.startswith("(") or name.lower() in PROMQL_KEYWORDS:
            continue
        selector = found.setdefault(name, Selector(name))
        index = re.match(r"\{#(\d+)\}", rest)
        if index:
            for label, op, quoted in _MATCHER.findall(matchers[int(index.group(1))]):
                selector.labels.add(label)
                if op == "=":
                    selector.exact[label].add(quoted[1:-1])
    return found


def all_selectors(exprs: list[str]) -> dict[str, Selector]:
    merged: dict[str, Selector] = {}
    for expr in exprs:
        for name, selector in selectors(expr).items():
            target = merged.setdefault(name, Selector(name))
            target.labels |= selector.labels
            for label, values in selector.exact.items():
                target.exact[label] |= values
    return merged


def test_selectors_find_names_not_functions_labels_or_keywords() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{route="/x", le="1.0"}[5m])))'
        ' / ignoring (state) b_max > 0.9 and on (job) c_total{status=~"5.."}'
        " or absent(up{job='gourmet'}) unless gourmet:ratio:rate5m offset 5m + scalar(d)"
    )
    found = selectors(expr)
    assert set(found) == {"a_bucket", "b_max", "c_total", "up", "gourmet:ratio:rate5m", "d"}
    assert found["a_bucket"].exact == {"route": {"/x"}, "le": {"1.0"}}
    assert found["c_total"].labels == {"status"}
    assert found["c_total"].exact == {}
