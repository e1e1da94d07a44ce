"""Analysis: statistics with confidence intervals, costs, recommendations, comparison."""
