"""Plan coverage: which planned configurations a (partial) sweep has not fully measured."""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from lambdabench.records import ConfigPoint, InvocationRecord


def missing_configs(
    header: dict[str, Any], by_config: dict[ConfigPoint, list[InvocationRecord]]
) -> tuple[ConfigPoint, ...]:
    """Planned configurations with no data, or fewer samples than planned (partial sweep)."""
    plan = header.get("plan") or {}
    planned = []
    for c in plan.get("configs") or []:
        try:
            planned.append(ConfigPoint.from_dict(c))
        except (KeyError, TypeError, ValueError):
            continue
    expected = _expected_counts(plan.get("scenarios") or [])
    missing = []
    for key in planned:
        rows = by_config.get(key)
        if not rows:
            missing.append(key)
            continue
        done = Counter(r.scenario for r in rows if not r.warmup)
        if any(done.get(kind, 0) < n for kind, n in expected.items()):
            missing.append(key)
    return tuple(sorted(set(missing)))


def _expected_counts(scenarios: Iterable[dict[str, Any]]) -> dict[str, int]:
    expected: Counter = Counter()
    for s in scenarios:
        kind = s.get("kind")
        if kind == "burst":
            expected[kind] += int(s.get("concurrency") or 0) * int(s.get("waves") or 1)
        elif kind in ("cold", "warm"):
            expected[kind] += int(s.get("invocations") or 0)
    return dict(expected)
