"""Adaptive memory tuning: a model of Lambda's CPU allocation, a search that measures where it
matters, and sample sources for replaying recorded curves (issue 13).

- `samples`  the sample shape a measurement returns (duration, billed, status)
- `model`    duration-vs-memory model on the CFS staircase, fitted with a bootstrap band
- `search`   the adaptive search and its stopping rule
- `replay`   recorded samples (CSV or results.jsonl) served as measurements
"""
