"""The sweep: plan (pure) → driver (boto3, the only code that changes a function) → results.jsonl.

- `plan`: Scenario → ordered actions and planned invocations with stable ids; dry-run text and cost.
- `clients`: the boto3 clients of a target and botocore errors → UsageError/RunError.
- `snapshot`: the configuration a sweep may touch; snapshot, restore, compare.
- `driver`: runs a plan, records every invocation, always restores.
- `local`: the local target (emulator in-process, function created from the scenario's code).
- `run`: one sweep end to end, and `restore DIR`, for the CLI.
"""
