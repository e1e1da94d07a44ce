"""Analysis: statistics with confidence intervals, costs, recommendations, comparison."""

from lambdabench.analysis.analyze import analyze

__all__ = ["analyze"]
