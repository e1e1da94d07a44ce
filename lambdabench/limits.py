"""Lambda's limits and resource model: the one place these numbers live, each with its source.

Everything that validates a memory size or timeout, sizes a CPU quota or a payload, or reasons
about concurrency and keep-alive reads it from here. Values are for standard on-demand functions.
Sources were checked in 2025 and are summarised in ../shared/LAMBDA_FACTS.md; where a number
comes from measurement rather than documentation the comment says so.
"""

from __future__ import annotations

import functools
import re

# --- Memory -----------------------------------------------------------------------------------
# AWS docs "Configure Lambda function memory" and "Lambda quotas"
# (docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html, .../gettingstarted-limits.html),
# checked 2025: 128 MB to 10,240 MB in 1 MB increments. botocore only checks the minimum client-side
# (service model `min: 128`), so the maximum must be checked by us. Some new accounts are capped at
# 3,008 MB until they ask for more; that cap is an account setting, not a Lambda limit.
MEMORY_MIN_MB = 128
MEMORY_MAX_MB = 10240
MEMORY_STEP_MB = 1
MEMORY_NEW_ACCOUNT_CAP_MB = 3008

# --- Timeout ----------------------------------------------------------------------------------
# AWS docs "Configure Lambda function timeout" (docs.aws.amazon.com/lambda/latest/dg/
# configuration-timeout.html), checked 2025: 1 to 900 seconds, default 3 seconds.
TIMEOUT_MIN_S = 1
TIMEOUT_MAX_S = 900
TIMEOUT_DEFAULT_S = 3

# AWS docs "Lambda execution environment lifecycle" (.../lambda-runtime-environment.html), checked
# 2025: the INIT phase of an on-demand function is limited to 10 seconds.
INIT_TIMEOUT_S = 10

# --- Ephemeral storage (/tmp) -----------------------------------------------------------------
# AWS docs "Configure ephemeral storage" (.../configuration-ephemeral-storage.html), checked 2025:
# 512 MB (the free default) to 10,240 MB in 1 MB increments.
EPHEMERAL_STORAGE_MIN_MB = 512
EPHEMERAL_STORAGE_MAX_MB = 10240
EPHEMERAL_STORAGE_DEFAULT_MB = 512

# --- Payloads ---------------------------------------------------------------------------------
# AWS docs "Lambda quotas" (.../gettingstarted-limits.html), checked 2025: 6 MB for synchronous
# request and response each (6,291,456 bytes: 6 MiB, as the service counts them); 1 MB for
# asynchronous invocations (raised from 256 KB in 2025).
PAYLOAD_SYNC_MAX_BYTES = 6 * 1024 * 1024
PAYLOAD_ASYNC_MAX_BYTES = 1024 * 1024

# AWS API reference "Invoke" (docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), checked 2025:
# with LogType=Tail the response header X-Amz-Log-Result carries the base64 of the last 4 KB of
# that invocation's log, for synchronous invocations only.
LOG_RESULT_TAIL_BYTES = 4 * 1024

# --- Deployment package and environment variables ---------------------------------------------
# AWS docs "Lambda quotas" (.../gettingstarted-limits.html), checked 2025: a .zip uploaded directly
# is at most 50 MB; the unzipped package (layers included) at most 250 MB = 262,144,000 bytes (the
# figure the service's error message quotes); all environment variables together at most 4 KB.
CODE_ZIP_MAX_BYTES = 50 * 1024 * 1024
CODE_UNZIPPED_MAX_BYTES = 262_144_000
ENVIRONMENT_MAX_BYTES = 4 * 1024

# AWS docs "Defined runtime environment variables" (.../configuration-envvars-runtime.html), checked
# 2025: the keys Lambda reserves; CreateFunction/UpdateFunctionConfiguration with one of them is refused.
RESERVED_ENVIRONMENT_KEYS = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})


@functools.cache
def environment_variable_name_pattern() -> str:
    """Lambda's rule for an environment variable name, read from botocore's Lambda service model (shape
    EnvironmentVariableName, `[a-zA-Z]([a-zA-Z0-9_])+`: a letter, then at least one more character, so a
    one-letter name is refused). The model is the service's own description, so it is the source."""
    import botocore.session  # here, not at the top: most users of limits never need the model

    model = botocore.session.get_session().get_service_model("lambda")
    return model.shape_for("EnvironmentVariableName").metadata["pattern"]


@functools.cache
def _environment_variable_name_re() -> re.Pattern[str]:
    return re.compile(environment_variable_name_pattern())


def is_valid_environment_variable_name(name: object) -> bool:
    """True for a string Lambda accepts as an environment variable name (the whole name must match)."""
    return isinstance(name, str) and _environment_variable_name_re().fullmatch(name) is not None


@functools.cache
def _handler_shape() -> dict:
    import botocore.session  # here, not at the top: most users of limits never need the model

    return botocore.session.get_session().get_service_model("lambda").shape_for("Handler").metadata


def handler_rule() -> tuple[str, int]:
    """Lambda's rule for a function's Handler, from botocore's Lambda service model (shape Handler:
    pattern `[^\\s]+`, at most 128 characters). Any non-blank name passes, slashes included
    (`src/handlers/app.handler`); whether the runtime can load it is the runtime's affair (INIT fails)."""
    shape = _handler_shape()
    return shape["pattern"], int(shape.get("max", 128))


def handler_problem(handler: object) -> str | None:
    """Why Lambda refuses `handler` as a Handler (the model's wording), None when it accepts it."""
    pattern, longest = handler_rule()
    if not isinstance(handler, str) or re.fullmatch(pattern, handler) is None:
        return f"must satisfy regular expression pattern: {pattern}"
    if len(handler) > longest:
        return f"must have length less than or equal to {longest}"
    return None

# --- CPU model --------------------------------------------------------------------------------
# AWS docs "Configure Lambda function memory", checked 2025: "At 1,769 MB, a function has the
# equivalent of one vCPU (one vCPU-second of credits per second)". CPU share is proportional to
# memory, so 10,240 MB is 5.79 vCPUs.
MB_PER_VCPU = 1769

# Measured (public measurements summarised in LAMBDA_FACTS.md "CPU and memory model", 2025): the
# share is enforced as a CFS bandwidth quota with a 20 ms period, quota = 20 ms x memory/1769
# (1.45 ms per 20 ms at 128 MB). Short CPU bursts therefore finish on 20 ms steps.
CPU_PERIOD_MS = 20

# Measured (same source): cores visible to the function (os.cpu_count()). Two up to 3,008 MB, then
# one more at each threshold below. Total CPU time is still capped by memory/1769, so
# single-threaded code stops getting faster at 1,769 MB whatever the core count.
# Each pair is (lowest memory_mb with this many cores, cores), ascending.
VISIBLE_CORES_TABLE: tuple[tuple[int, int], ...] = (
    (MEMORY_MIN_MB, 2),
    (3009, 3),
    (5308, 4),
    (7077, 5),
    (8846, 6),
)

# --- Concurrency ------------------------------------------------------------------------------
# AWS docs "Lambda quotas" and "Understanding Lambda function scaling" (.../lambda-concurrency.html,
# .../scaling-behavior.html), checked 2025: 1,000 concurrent executions per account per region by
# default; reserved concurrency can never take the unreserved pool below 100; each function scales
# by 1,000 execution environments every 10 seconds.
ACCOUNT_CONCURRENCY_DEFAULT = 1000
UNRESERVED_CONCURRENCY_MIN = 100
SCALING_ENVIRONMENTS_PER_STEP = 1000
SCALING_STEP_S = 10

# --- Keep-alive of idle execution environments --------------------------------------------------
# Not documented by AWS; measured (2025 measurements in LAMBDA_FACTS.md): an idle environment was
# still warm 92% of the time after 300 s and always cold after 360 s (older studies saw 27-60 min);
# busy environments are recycled about every 2 hours regardless. These are observations, so code
# must take keep-alive as a parameter and use these only as defaults.
KEEP_ALIVE_MOSTLY_WARM_S = 300
KEEP_ALIVE_ALWAYS_COLD_AFTER_S = 360
ENVIRONMENT_MAX_LIFETIME_S = 2 * 60 * 60

# --- Architectures ----------------------------------------------------------------------------
# AWS API reference "CreateFunction" Architectures: x86_64 (default) or arm64.
ARCHITECTURES = ("x86_64", "arm64")
DEFAULT_ARCHITECTURE = "x86_64"


def is_valid_memory_mb(memory_mb: object) -> bool:
    """True for an int (not a bool) within Lambda's memory range (1 MB steps)."""
    return (isinstance(memory_mb, int) and not isinstance(memory_mb, bool)
            and MEMORY_MIN_MB <= memory_mb <= MEMORY_MAX_MB)


def is_valid_ephemeral_storage_mb(storage_mb: object) -> bool:
    """True for an int (not a bool) within Lambda's ephemeral storage range."""
    return (isinstance(storage_mb, int) and not isinstance(storage_mb, bool)
            and EPHEMERAL_STORAGE_MIN_MB <= storage_mb <= EPHEMERAL_STORAGE_MAX_MB)


def _check_memory(memory_mb: int) -> None:
    if not is_valid_memory_mb(memory_mb):
        raise ValueError(f"memory_mb must be an int in {MEMORY_MIN_MB}..{MEMORY_MAX_MB}, got {memory_mb!r}")


def vcpus_for_memory(memory_mb: int) -> float:
    """CPU-seconds per second a function of this size gets (1.0 at 1,769 MB, 5.79 at 10,240 MB)."""
    _check_memory(memory_mb)
    return memory_mb / MB_PER_VCPU


def visible_cores(memory_mb: int) -> int:
    """Cores the function sees (os.cpu_count()) at this memory size (the tuner's multi-vCPU regime)."""
    _check_memory(memory_mb)
    cores = VISIBLE_CORES_TABLE[0][1]
    for lowest_mb, count in VISIBLE_CORES_TABLE:
        if memory_mb >= lowest_mb:
            cores = count
    return cores
