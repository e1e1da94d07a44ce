"""The recommendation strategies: the names a scenario's `[recommend] strategy` may take and the analysis
implements (analysis/recommend.py says what each one picks). One tuple, here, so the two cannot drift."""

from __future__ import annotations

STRATEGIES = ("cost", "speed", "balanced", "slo")
