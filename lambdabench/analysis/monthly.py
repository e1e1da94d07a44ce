"""What the recommendation saves in a month ([recommend] monthly_invocations), and against what.

Each configuration's month is priced in `summaries` (`ConfigSummary.monthly`, by
`pricing.monthly_cost`); this module only compares them. A team deciding wants to know what the
change saves against what it pays today (the current configuration, when it was measured); when
that is unknown, against the most expensive candidate (what a wrong size costs); and, when the
pick is not the cheapest, what the cheapest would save on top and what it gives up in latency.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdabench.analysis.model import ConfigSummary, MonthlyDelta
from lambdabench.records import ConfigPoint


@dataclass(frozen=True)
class MonthlySavings:
    monthly_usd: float | None
    deltas: tuple[MonthlyDelta, ...]
    note: str


def monthly_savings(
    winner: ConfigSummary,
    configs: tuple[ConfigSummary, ...],
    original: ConfigPoint | None,
    stand_in: ConfigSummary | None,
    invocations: int,
) -> MonthlySavings:
    """The recommended configuration's month against the current, most expensive and cheapest ones."""
    month = winner.monthly
    if month is None:
        return MonthlySavings(None, (), f"A month of {invocations:,} invocations could not be priced for "
                                        f"{winner.config.label}: {_why_unpriced(winner)}.")
    share = winner.cold_share or 0.0
    lead = (f"{invocations:,} invocations a month ({share:.1%} cold starts) cost {_usd(month.total_usd)} "
            f"at {winner.config.label}")
    deltas: list[MonthlyDelta] = []
    sentences: list[str] = []

    current = stand_in if stand_in is not None and stand_in.monthly is not None else None
    if current is not None and current.config == winner.config:
        sentences.append(f"{lead}: it is the current configuration, so the month stays as it is.")
    elif current is not None:
        delta = _delta("current", current, month.total_usd)
        deltas.append(delta)
        sentences.append(f"{lead}: {_compared(delta)} the current {_label(current, original)} "
                         f"({_usd(delta.monthly_usd)}).")
    else:
        candidates = [c for c in configs if c.recommendable and c.monthly is not None and c.config != winner.config]
        dearest = max(candidates, key=lambda c: (c.monthly.total_usd, c.config), default=None)  # type: ignore[union-attr]
        unknown = ""
        if original is not None:
            unknown = f" (the current {original.label} was not measured)"
        if dearest is not None and dearest.monthly.total_usd > month.total_usd:  # type: ignore[union-attr]
            delta = _delta("most expensive", dearest, month.total_usd)
            deltas.append(delta)
            sentences.append(f"{lead}: {_compared(delta)} the most expensive candidate, "
                             f"{dearest.config.label} ({_usd(delta.monthly_usd)}){unknown}.")
        else:
            sentences.append(f"{lead}{unknown}.")

    cheaper = [c for c in configs if c.recommendable and c.monthly is not None
               and c.monthly.total_usd < month.total_usd]
    cheapest = min(cheaper, key=lambda c: (c.monthly.total_usd, c.config), default=None)  # type: ignore[union-attr]
    if cheapest is not None:
        delta = _delta("cheapest", cheapest, month.total_usd)
        deltas.append(delta)
        name = f"p{winner.latency_percentile:g}"
        trade = ""
        if cheapest.latency_ms is not None and winner.latency_ms is not None:
            trade = f", at {name} {cheapest.latency_ms:.1f} ms against {winner.latency_ms:.1f} ms"
        sentences.append(f"The cheapest candidate, {cheapest.config.label}, would cost "
                         f"{_usd(-delta.saved_usd)} less a month ({_usd(delta.monthly_usd)}){trade}.")
    return MonthlySavings(month.total_usd, tuple(deltas), " ".join(sentences))


def _delta(against: str, other: ConfigSummary, recommended_usd: float) -> MonthlyDelta:
    other_usd = other.monthly.total_usd  # type: ignore[union-attr]
    saved = other_usd - recommended_usd
    return MonthlyDelta(against=against, config=other.config, monthly_usd=other_usd, saved_usd=saved,
                        saved_fraction=saved / other_usd if other_usd else None)


def _compared(delta: MonthlyDelta) -> str:
    if delta.saved_usd == 0:
        return "the same as"
    share = f" ({abs(delta.saved_fraction):.0%})" if delta.saved_fraction is not None else ""
    if delta.saved_usd > 0:
        return f"it saves {_usd(delta.saved_usd)} a month{share} against"
    return f"it costs {_usd(-delta.saved_usd)} a month{share} more than"


def _label(summary: ConfigSummary, original: ConfigPoint | None) -> str:
    # The stand-in may differ from the original in timeout only (which does not change the price).
    return original.label if original is not None else summary.config.label


def _why_unpriced(summary: ConfigSummary) -> str:
    if summary.cost_per_million_usd is None:
        return "it has no priced invocation"
    if summary.cold_share is None:
        return "no warm or burst samples to observe the cold-start share from"
    return "no cold start was measured to price the cold share at (add a cold scenario)"


def _usd(value: float) -> str:
    return f"${value:,.2f}"
