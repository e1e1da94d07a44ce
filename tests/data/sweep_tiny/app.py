"""A tiny handler for the sweep's functional tests: answers at once, sleeps, or fails when asked."""

import os
import time


def handler(event, context):
    if isinstance(event, dict):
        if event.get("fail"):
            raise RuntimeError("asked to fail")
        if event.get("sleep_s"):
            time.sleep(float(event["sleep_s"]))
    return {"memory": os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), "user": os.environ.get("USER_VAR")}
