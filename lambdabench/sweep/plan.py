"""The sweep plan: Scenario → an ordered list of actions. Pure: no I/O, no clock, no AWS.

A plan is the grid (architecture × memory × timeout), each point with the scenario file's
[[scenario]] entries, unrolled into the exact actions the driver performs:

- `configure`: set memory/timeout (and architecture when it changes) with a fresh nonce in the
  environment; every execution environment of the function is retired, so the next invoke is cold.
- `refresh`: only a new nonce, to force the next invoke cold (before each cold sample after the first
  of a grid point, and before the first burst wave when the function has been invoked since).
- `invoke`: one sequential invocation (cold sample, warm-up or warm sample).
- `burst`: N invocations released together (one wave), and `pause` between waves.

Each planned invocation has a stable id (`m128-t10-x86_64/warm/7`) so `--resume` can skip the ones
already in results.jsonl, and a seeded payload draw derived from that id, so a rerun or a resume sends
the same payload to the same invocation whatever the order.

What each sample is expected to be: cold samples cold, warm samples (and warm-ups after the first)
warm. The first burst wave starts on fresh environments, so all of it is expected cold; later waves
land on whatever the first left warm, which is the behaviour a burst measures, so their state is
recorded but not checked (`expect_cold` None).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from lambdabench import limits
from lambdabench.records import ConfigPoint

# A conservative guess of what one invocation of an unknown function bills, for --dry-run. Lambda
# functions tuned with this tool typically run tens to hundreds of ms; 1 s per invoke (capped by the
# timeout) plus 1 s of init on each cold start overestimates most of them. The upper bound assumes
# every invocation runs into its timeout.
GUESS_DURATION_MS = 1000
GUESS_INIT_MS = 1000


@dataclass(frozen=True)
class PlannedInvocation:
    invocation_id: str
    config: ConfigPoint
    scenario: str  # cold | warm | burst
    scenario_index: int  # position of its [[scenario]] entry in the file
    index: int  # 0-based position within its scenario step (warm-ups counted apart)
    wave: int | None
    warmup: bool
    payload_index: int
    expect_cold: bool | None  # None: not checked (warm-up #0, burst waves after the first)
    search_phase: str | None = None  # adaptive sweeps: "search" or "finalist" (records.SEARCH_PHASES)
    search_step: int | None = None  # adaptive sweeps: the search step that took it


@dataclass(frozen=True)
class Action:
    kind: str  # configure | refresh | invoke | burst | pause
    config: ConfigPoint
    invocations: tuple[PlannedInvocation, ...] = ()
    pause_s: float = 0.0


@dataclass(frozen=True)
class Plan:
    configs: tuple[ConfigPoint, ...]  # in the order they are first applied
    actions: tuple[Action, ...]
    scenarios: tuple[dict[str, Any], ...]  # the [[scenario]] entries, as dicts
    order: str
    seed: int
    payload_labels: tuple[str, ...] = field(default=())

    @property
    def invocations(self) -> tuple[PlannedInvocation, ...]:
        return tuple(inv for a in self.actions for inv in a.invocations)

    @property
    def total_invocations(self) -> int:
        return sum(len(a.invocations) for a in self.actions)

    @property
    def invocations_per_scenario(self) -> dict[str, int]:
        """Per grid point: invocations of each scenario kind (warm-ups included)."""
        per_config = Counter(inv.scenario for inv in self.invocations)
        n = max(1, len(self.configs))
        return {kind: count // n for kind, count in per_config.items()}

    @property
    def configuration_changes(self) -> int:
        """UpdateFunctionConfiguration calls the sweep makes (grid points + cold-start refreshes)."""
        return sum(1 for a in self.actions if a.kind in ("configure", "refresh"))

    @property
    def architecture_changes(self) -> int:
        return sum(1 for a, b in zip(self.configs, self.configs[1:]) if a.architecture != b.architecture)

    @property
    def max_concurrency(self) -> int:
        return max((len(a.invocations) for a in self.actions if a.kind == "burst"), default=1)

    @property
    def max_timeout_s(self) -> int:
        return max((c.timeout_s for c in self.configs), default=3)

    def to_header(self) -> dict[str, Any]:
        return {
            "configs": [c.to_dict() for c in self.configs],
            "scenarios": [dict(s) for s in self.scenarios],
            "order": self.order,
            "seed": self.seed,
            "total_invocations": self.total_invocations,
            "configuration_changes": self.configuration_changes,
        }


def _scenario_dict(spec: Any) -> dict[str, Any]:
    kind = spec.kind
    if kind == "cold":
        return {"kind": kind, "invocations": spec.invocations}
    if kind == "warm":
        return {"kind": kind, "invocations": spec.invocations, "warmup": spec.warmup}
    return {"kind": kind, "concurrency": spec.concurrency, "waves": spec.waves, "pause_s": spec.pause_s}


def grid(memory_mb: Sequence[int], timeout_s: Sequence[int], architectures: Sequence[str]) -> list[ConfigPoint]:
    """Architecture outermost (switching it redeploys code), then memory, then timeout."""
    return [ConfigPoint(m, t, a) for a in architectures for m in memory_mb for t in timeout_s]


def draw_payload(seed: int, invocation_id: str, weights: Sequence[float]) -> int:
    """Index of the payload this invocation sends: a weighted draw seeded by (seed, id).

    Seeding by id (not by position in a shared stream) keeps each invocation's draw the same across
    reruns, shuffled orders and resumes.
    """
    if len(weights) <= 1:
        return 0
    rng = random.Random(f"{seed}/{invocation_id}")
    return rng.choices(range(len(weights)), weights=list(weights), k=1)[0]


def build_plan(scenario: Any, *, default_architecture: str = limits.DEFAULT_ARCHITECTURE) -> Plan:
    """The plan for a loaded Scenario. `default_architecture` is the function's own, used when the
    scenario lists no architectures (the sweep then keeps it)."""
    sweep = scenario.sweep
    architectures = tuple(sweep.architectures) if sweep.architectures else (default_architecture,)
    points = grid(sweep.memory_mb, sweep.timeout_s, architectures)
    specs = tuple(scenario.scenarios)
    weights = [p.weight for p in sweep.payloads] or [1.0]
    kinds = Counter(s.kind for s in specs)
    names = [s.kind if kinds[s.kind] == 1 else f"{s.kind}{i}" for i, s in enumerate(specs)]

    steps: list[tuple[ConfigPoint, int]] = [(p, i) for p in points for i in range(len(specs))]
    if sweep.order == "shuffled":
        # Interleave configurations so slow drift (host load, time of day) cannot look like a
        # difference between them. Seeded: the same scenario gives the same order.
        random.Random(sweep.seed).shuffle(steps)

    actions: list[Action] = []
    current: ConfigPoint | None = None
    fresh = False  # no invoke since the last configuration change: environments are new
    seen: list[ConfigPoint] = []

    def invocation(point: ConfigPoint, si: int, suffix: str, index: int, wave: int | None, warmup: bool,
                   expect_cold: bool | None) -> PlannedInvocation:
        iid = f"{point.config_id}/{names[si]}/{suffix}"
        return PlannedInvocation(
            invocation_id=iid, config=point, scenario=specs[si].kind, scenario_index=si, index=index,
            wave=wave, warmup=warmup, payload_index=draw_payload(sweep.seed, iid, weights),
            expect_cold=expect_cold,
        )

    for point, si in steps:
        spec = specs[si]
        if point != current:
            actions.append(Action("configure", point))
            current, fresh = point, True
            if point not in seen:
                seen.append(point)
        if spec.kind == "cold":
            for i in range(spec.invocations):
                if not fresh:
                    actions.append(Action("refresh", point))
                actions.append(Action("invoke", point, (invocation(point, si, str(i), i, None, False, True),)))
                fresh = False
        elif spec.kind == "warm":
            for i in range(spec.warmup):
                # The first warm-up lands cold unless something ran before it; not checked.
                expect = None if i == 0 else False
                actions.append(Action("invoke", point,
                                      (invocation(point, si, f"warmup-{i}", i, None, True, expect),)))
                fresh = False
            for i in range(spec.invocations):
                expect = False if (spec.warmup > 0 or i > 0) else None
                actions.append(Action("invoke", point, (invocation(point, si, str(i), i, None, False, expect),)))
                fresh = False
        elif spec.kind == "burst":
            for w in range(spec.waves):
                if w == 0 and not fresh:
                    actions.append(Action("refresh", point))
                if w > 0 and spec.pause_s > 0:
                    actions.append(Action("pause", point, pause_s=spec.pause_s))
                wave = tuple(
                    invocation(point, si, f"w{w}/{i}", i, w, False, True if w == 0 else None)
                    for i in range(spec.concurrency)
                )
                actions.append(Action("burst", point, wave))
                fresh = False
        else:  # the scenario loader rejects other kinds; a plan must not silently skip one
            raise ValueError(f"unknown scenario kind {spec.kind!r}")

    labels = tuple(p.label for p in sweep.payloads)
    return Plan(
        configs=tuple(seen),
        actions=tuple(actions),
        scenarios=tuple(_scenario_dict(s) for s in specs),
        order=sweep.order,
        seed=sweep.seed,
        payload_labels=labels,
    )


@dataclass(frozen=True)
class CostEstimate:
    """What the sweep's invocations would cost on AWS under stated assumptions."""

    invocations: int
    guess_usd: float  # each invoke bills min(timeout, GUESS_DURATION_MS), cold ones + GUESS_INIT_MS
    upper_bound_usd: float  # each invoke bills its full timeout (+ init on cold)
    request_usd: float  # the request fees alone (included in both figures above)
    assumption: str


def estimate_cost(plan: Plan, *, region: str = "us-east-1", storage_mb: int = limits.EPHEMERAL_STORAGE_DEFAULT_MB,
                  duration_guess_ms: int = GUESS_DURATION_MS, init_guess_ms: int = GUESS_INIT_MS) -> CostEstimate:
    """Price every planned invocation with pricing.invocation_cost (request fee included).

    A cold start bills Duration + Init together (INIT billed since 2025-08-01), so the guess adds the
    init guess to expected-cold invocations and to the first of each warm-up run.
    """
    from lambdabench.pricing import invocation_cost  # B's module; imported here so plan stays importable

    guess = upper = requests = 0.0
    for inv in plan.invocations:
        timeout_ms = inv.config.timeout_s * 1000
        cold = inv.expect_cold is not False  # unknown counts as cold: conservative
        init = init_guess_ms if cold else 0
        g = invocation_cost(inv.config.memory_mb, min(timeout_ms, duration_guess_ms) + init,
                            architecture=inv.config.architecture, region=region, storage_mb=storage_mb)
        u = invocation_cost(inv.config.memory_mb, timeout_ms + init,
                            architecture=inv.config.architecture, region=region, storage_mb=storage_mb)
        guess += g.total_usd
        upper += u.total_usd
        requests += g.request_usd
    assumption = (
        f"each invocation bills min(timeout, {duration_guess_ms} ms), plus {init_guess_ms} ms of init "
        f"when cold; upper bound: every invocation runs into its timeout; region {region}, list prices"
    )
    return CostEstimate(plan.total_invocations, guess, upper, requests, assumption)


def describe(plan: Plan, estimate: CostEstimate | None) -> list[str]:
    """The --dry-run text, one line per item (the CLI prints it)."""
    lines = [f"configurations ({len(plan.configs)}, order {plan.order}):"]
    lines += [f"  {c.config_id}: memory {c.memory_mb} MB, timeout {c.timeout_s} s, {c.architecture}" for c in plan.configs]
    lines.append("invocations per configuration:")
    for s in plan.scenarios:
        if s["kind"] == "cold":
            lines.append(f"  cold: {s['invocations']} (each forced cold)")
        elif s["kind"] == "warm":
            lines.append(f"  warm: {s['invocations']} + {s['warmup']} warm-up")
        else:
            lines.append(f"  burst: {s['concurrency']} concurrent x {s['waves']} wave(s), pause {s['pause_s']} s")
    lines.append(f"total invocations: {plan.total_invocations}")
    lines.append(f"configuration changes: {plan.configuration_changes} "
                 f"({len(plan.configs)} grid points + {plan.configuration_changes - _configures(plan)} cold-start "
                 f"refreshes; {plan.architecture_changes} architecture switches)")
    if estimate is not None:
        lines.append(f"estimated cost on AWS: ${estimate.guess_usd:.6f} "
                     f"(upper bound ${estimate.upper_bound_usd:.6f}; request fees ${estimate.request_usd:.6f})")
        lines.append(f"  assuming {estimate.assumption}")
    return lines


def _configures(plan: Plan) -> int:
    return sum(1 for a in plan.actions if a.kind == "configure")


def pending(actions: Iterable[Action], done: set[str]) -> list[Action]:
    """The actions still to run given completed invocation ids (for --resume).

    Invocations already recorded are dropped; a refresh/pause is kept only when the invocation it
    prepares is still pending; each configure is kept (a grid point with nothing pending is skipped).
    """
    actions = list(actions)
    out: list[Action] = []
    for i, action in enumerate(actions):
        if action.kind in ("invoke", "burst"):
            left = tuple(inv for inv in action.invocations if inv.invocation_id not in done)
            if left:
                out.append(Action(action.kind, action.config, left, action.pause_s))
        elif action.kind in ("refresh", "pause"):
            following = actions[i + 1] if i + 1 < len(actions) else None
            if following is not None and any(inv.invocation_id not in done for inv in following.invocations):
                out.append(action)
        else:  # configure
            out.append(action)
    # drop configures with nothing after them at that point
    compact: list[Action] = []
    for i, action in enumerate(out):
        if action.kind == "configure":
            nxt = out[i + 1] if i + 1 < len(out) else None
            if nxt is None or nxt.kind == "configure":
                continue
        compact.append(action)
    return compact
