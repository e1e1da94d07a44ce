"""Sleep-bound demo function: waits like a handler that calls a slow downstream service.

Event: {"wait_ms": 150, "calls": 2} sleeps `calls` times for `wait_ms` each (300 ms in all) and
does almost no CPU work. Lambda's CPU share grows with memory but waiting does not get faster, so
the duration is the same at every memory size and the cheapest size (128 MB) is the right one.
"""

import time

_MAX_TOTAL_MS = 60_000


def handler(event, context):
    event = event or {}
    wait_ms = event.get("wait_ms", 150)
    calls = event.get("calls", 2)
    for name, value in (("wait_ms", wait_ms), ("calls", calls)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"'{name}' must be a whole number >= 0, got {value!r}")
    if wait_ms * calls > _MAX_TOTAL_MS:
        raise ValueError(f"wait_ms x calls must be at most {_MAX_TOTAL_MS} ms")
    started = time.monotonic()
    for _ in range(calls):
        time.sleep(wait_ms / 1000)
    return {"calls": calls, "waited_ms": round((time.monotonic() - started) * 1000, 1)}
