"""The replay target: a sweep served from recorded samples, with no real time passing.

`replay_target(scenario)` reads the scenario's `[target] samples` (a CSV or a finished sweep's
results.jsonl, through `tuning.replay.load_samples`) and `ReplayDriver` runs the same plans and the
same adaptive search as the local and aws targets: the `Driver`'s order of work, results file,
events, resume and progress are all its own; only the parts that touch a function are replaced:
- configuring a size only checks the file has samples at it (nothing is deployed);
- an invocation draws one recorded row of its size, seeded by `[sweep] seed`: a cold invocation
  (cold scenario, a burst's first wave) from the size's cold rows when the file has any, every
  other one from the rows not known to be cold (cold and warm are never mixed);
- the record is priced from the row's billed duration (the loader fills ceil(duration) when the
  file has none), says `report_source = "replay"`, and has no request id or client time;
- nothing is restored, because nothing was changed.
Records are flushed per invocation and fsynced per configuration (a replay can be rerun; a
10,000-invocation replay sweep then takes seconds, see tests/functional/test_sweep_replay.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Sequence

from lambdabench.errors import UsageError
from lambdabench.pricing import invocation_cost
from lambdabench.records import InvocationRecord
from lambdabench.sweep.clients import Clients, TargetInfo
from lambdabench.sweep.driver import Driver, Prepared, iso, utc_now
from lambdabench.sweep.plan import ConfigPoint, PlannedInvocation
from lambdabench.sweep.snapshot import FunctionConfig, RestoreOutcome, Snapshot
from lambdabench.tuning.replay import ReplaySource, load_samples
from lambdabench.tuning.samples import Sample

REPLAY = "replay"
REPLAY_REGION = "us-east-1"
REPORT_SOURCE = "replay"  # what a replayed record says where its numbers came from


@dataclass(frozen=True)
class ReplayTarget:
    """The recorded samples of a replay sweep, split by what they may stand for."""

    clients: Clients
    function_name: str
    warm: ReplaySource  # rows not known to be cold starts
    cold: ReplaySource  # rows known to be cold starts

    @property
    def sizes_mb(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.warm.sizes_mb) | set(self.cold.sizes_mb)))

    def snapshot(self, scenario: Any, taken_at: str) -> Snapshot:
        """What stands for the function's original configuration (nothing is ever changed)."""
        spec = scenario.function
        config = FunctionConfig(memory_mb=self.sizes_mb[0], timeout_s=max(scenario.sweep.timeout_s),
                                architecture=spec.architecture, environment=(),
                                ephemeral_storage_mb=spec.ephemeral_storage_mb)
        return Snapshot(target=self.clients.target, function_name=self.function_name,
                        function_arn=f"replay:{scenario.target.samples}", config=config, taken_at=taken_at)

    def prepared(self, scenario: Any, taken_at: str) -> Prepared:
        return Prepared(snapshot=self.snapshot(scenario, taken_at), function_name=self.function_name,
                        log_format="Text", code_zip=None, live_architecture=scenario.function.architecture)


def replay_target(scenario: Any) -> ReplayTarget:
    samples = load_samples(scenario.target.samples)
    seed = scenario.sweep.seed
    warm = ReplaySource.from_samples(samples, seed, warm_only=True)
    # Its own stream (seed + 1): how many cold draws a sweep makes must not shift the warm ones.
    cold = ReplaySource.from_samples([s for s in samples if s.cold is True], seed + 1, warm_only=False)
    region = scenario.target.region or REPLAY_REGION
    clients = Clients(target=TargetInfo(kind=REPLAY, region=region), control=None, invoke=None, logs=None)
    return ReplayTarget(clients=clients, function_name=scenario.function.name, warm=warm, cold=cold)


class ReplayDriver(Driver):
    """A Driver whose function is a file of recorded samples."""

    def __init__(self, target: ReplayTarget, *args: Any, **kwargs: Any):
        super().__init__(target.clients, *args, **kwargs)
        self.target = target

    # -- configuration: nothing to deploy, only sizes the file has --------------------------------
    def _configure(self, point: ConfigPoint) -> None:
        if point.memory_mb not in self.target.sizes_mb:
            raise UsageError(f"the samples file has no samples at {point.memory_mb} MB",
                             f"use sizes the file has: {', '.join(map(str, self.target.sizes_mb))} MB")
        with self._lock:
            if self._writer is not None and not self._closed:
                self._writer.sync()
        self._state.config = point
        self._state.architecture = point.architecture
        self._state.fresh = True
        self._event("config_applied", config=point.to_dict(), key=point.config_id, duration_ms=0.0)

    def _refresh(self, point: ConfigPoint) -> None:
        self._state.fresh = True

    def _restore(self) -> RestoreOutcome | None:
        return None  # nothing was changed

    # -- invocations: one recorded row each -------------------------------------------------------
    def _draw(self, inv: PlannedInvocation) -> Sample:
        size = inv.config.memory_mb
        cold = inv.expect_cold is True or (inv.expect_cold is None and self._state.fresh)
        source = self.target.cold if cold and size in self.target.cold.by_size else self.target.warm
        if size not in source.by_size:
            source = self.target.cold  # a size with cold rows only: the warm samples it can give
        return source.measure(size, 1)[0]

    def invoke(self, inv: PlannedInvocation, *, body: bytes | None = None, defer: Any = None) -> InvocationRecord:
        sample = self._draw(inv)
        self._state.fresh = False
        point = inv.config
        cost = invocation_cost(point.memory_mb, sample.billed_duration_ms, architecture=point.architecture,
                               region=self.clients.target.region, storage_mb=self.storage_mb).total_usd
        cold = sample.cold
        mismatch = bool(inv.expect_cold is not None and cold is not None and cold != inv.expect_cold)
        return InvocationRecord(
            invocation_id=inv.invocation_id, memory_mb=point.memory_mb, timeout_s=point.timeout_s,
            architecture=point.architecture, scenario=inv.scenario, wave=inv.wave,
            request_id=f"replay-{uuid.uuid4()}", status=sample.status, cold=cold, warmup=inv.warmup,
            state_mismatch=mismatch, duration_ms=sample.duration_ms,
            billed_duration_ms=sample.billed_duration_ms, init_duration_ms=sample.init_duration_ms,
            max_memory_used_mb=sample.max_memory_used_mb, client_ms=None,
            cost_usd=cost if sample.status != "throttled" else 0.0,
            error_type=None if sample.ok else f"Replay.{sample.status}", started_at=iso(utc_now()),
            payload_label=self.payloads.labels[inv.payload_index], payload_index=inv.payload_index,
            report_source=REPORT_SOURCE, memory_size_mb=point.memory_mb, expect_cold=inv.expect_cold,
            search_phase=inv.search_phase, search_step=inv.search_step,
        )

    def _invoke_and_record(self, inv: PlannedInvocation) -> InvocationRecord:
        record = self.invoke(inv)
        self._write(record, sync=False)
        return record

    def burst(self, invocations: Sequence[PlannedInvocation], *, greenlets: bool = True) -> None:
        # A wave's rows are drawn together; the first wave of a size draws cold rows.
        fresh = self._state.fresh
        for inv in invocations:
            self._state.fresh = fresh
            self._write(self.invoke(inv), sync=False)
        with self._lock:
            if self._writer is not None and not self._closed:
                self._writer.sync()
