"""AWS's own boto3 walk-through for Lambda, run against the emulator.

Source: "Lambda examples using SDK for Python (Boto3)", AWS SDK Code Examples
https://docs.aws.amazon.com/code-library/latest/ug/python_3_lambda_code_examples.html
(its "Basics" scenario, LambdaWrapper in python/example_code/lambda/lambda_basics.py and
scenario_getting_started_functions.py of the AWS Doc SDK Examples repository).

The scenario, step by step as the docs run it: zip a handler file into an in-memory deployment package;
create_function (Description, Runtime, Role ARN, Handler "<file>.lambda_handler", Code ZipFile,
Publish=True) then the `function_active_v2` waiter; invoke with a JSON payload ({"action": "increment",
"number": ...}); update_function_code with a second package, wait until LastUpdateStatus is Successful,
update_function_configuration with Environment {"LOG_LEVEL": "DEBUG"}; invoke the calculator handler
with LogType "Tail" and read the base64 log; list functions with the paginator; delete_function.

The calls below follow that sequence with the same parameters. They are written here, not pasted,
and differ from the docs in two places only: the client gets `endpoint_url` (and dummy credentials),
and the runtime is python3.12 (the docs' python3.8 has been deprecated by AWS; this project targets
the current Python runtimes). The IAM role step is replaced by a role ARN, which the emulator accepts
unchecked (it has no IAM).
"""

from __future__ import annotations

import base64
import io
import json
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from lambdabench.emulator import running

# The two handlers of the docs' scenario, re-written: an incrementer, then a calculator that logs.
BASIC_HANDLER = '''
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    if event.get("action") == "increment":
        result = event.get("number", 0) + 1
        logger.info("Calculated result of %s", result)
    else:
        result = None
        logger.error("%s is not a valid action.", event.get("action"))
    return {"result": result}
'''

CALCULATOR_HANDLER = '''
import logging
import os

logger = logging.getLogger()
ACTIONS = {
    "plus": lambda x, y: x + y,
    "minus": lambda x, y: x - y,
    "times": lambda x, y: x * y,
    "divided-by": lambda x, y: x / y,
}


def lambda_handler(event, context):
    logger.setLevel(os.environ.get("LOG_LEVEL", logging.INFO))
    logger.debug("Event: %s", event)
    action = event.get("action")
    func = ACTIONS.get(action)
    x, y = event.get("x"), event.get("y")
    result = None
    try:
        if func is not None and x is not None and y is not None:
            result = func(x, y)
            logger.info("%s %s %s is %s", x, action, y, result)
        else:
            logger.error("I can't calculate %s %s %s.", x, action, y)
    except ZeroDivisionError:
        logger.warning("I can't divide %s by 0!", x)
    return {"result": result}
'''


def deployment_package(file_name: str, source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr(file_name, source)
    buffer.seek(0)
    return buffer.read()


@pytest.fixture(scope="module")
def lambda_client():
    with running(cpu_limit="none") as endpoint:
        yield boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")


def test_aws_docs_lambda_basics_scenario_runs_against_the_emulator(lambda_client):
    function_name = "doc_example_lambda_calculator"
    role_arn = "arn:aws:iam::123456789012:role/doc-example-iam-role"

    # Create the function from the basic handler, as the docs' create_function does.
    response = lambda_client.create_function(
        FunctionName=function_name,
        Description="AWS Lambda doc example",
        Runtime="python3.12",
        Role=role_arn,
        Handler="lambda_handler_basic.lambda_handler",
        Code={"ZipFile": deployment_package("lambda_handler_basic.py", BASIC_HANDLER)},
        Publish=True,
    )
    assert f":function:{function_name}" in response["FunctionArn"]
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=function_name, WaiterConfig={"Delay": 1})
    configuration = lambda_client.get_function(FunctionName=function_name)["Configuration"]
    assert configuration["State"] == "Active"
    # The docs pass no Timeout or MemorySize: Lambda's defaults apply (3 s, 128 MB).
    assert (configuration["Timeout"], configuration["MemorySize"]) == (3, 128)
    versions = lambda_client.list_versions_by_function(FunctionName=function_name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]  # Publish=True published version 1

    # Invoke with a single parameter and read the result.
    response = lambda_client.invoke(FunctionName=function_name, Payload=json.dumps({"action": "increment", "number": 3}), LogType="None")
    assert json.loads(response["Payload"].read()) == {"result": 4}

    # Update the code to the calculator, wait for the update, then set LOG_LEVEL.
    update = lambda_client.update_function_code(
        FunctionName=function_name, ZipFile=deployment_package("lambda_handler_basic.py", CALCULATOR_HANDLER)
    )
    assert update["FunctionName"] == function_name
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function_name, WaiterConfig={"Delay": 1})
    lambda_client.update_function_configuration(FunctionName=function_name, Environment={"Variables": {"LOG_LEVEL": "DEBUG"}})
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function_name, WaiterConfig={"Delay": 1})

    # Invoke the calculator with the log tail, as the docs do, and read the execution log.
    response = lambda_client.invoke(
        FunctionName=function_name, Payload=json.dumps({"action": "plus", "x": 5, "y": 7}), LogType="Tail"
    )
    assert json.loads(response["Payload"].read()) == {"result": 12}
    log_text = base64.b64decode(response["LogResult"]).decode()
    assert "5 plus 7 is 12" in log_text
    assert "Event: {'action': 'plus', 'x': 5, 'y': 7}" in log_text  # DEBUG reached the handler's logger
    assert "REPORT RequestId:" in log_text and "Init Duration" in log_text  # new code: a cold start

    # List the account's functions with the paginator.
    listed = [
        (f["FunctionName"], f.get("Description"), f["Runtime"], f["Handler"])
        for page in lambda_client.get_paginator("list_functions").paginate()
        for f in page["Functions"]
    ]
    assert (function_name, "AWS Lambda doc example", "python3.12", "lambda_handler_basic.lambda_handler") in listed

    # Delete the function; it is gone afterwards.
    lambda_client.delete_function(FunctionName=function_name)
    with pytest.raises(ClientError) as err:
        lambda_client.get_function(FunctionName=function_name)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
