"""What a production-safe sweep must see the emulator refuse or report, through real boto3: function
State (Pending for a configurable delay, Inactive on demand), RevisionId preconditions against a second
writer, Lambda's 4 KB environment limit as Lambda measures it, CapacityProviderConfig."""

from __future__ import annotations

import json

import pytest

from lambdabench import limits
from lambdabench.emulator import Emulator

SOURCE = """
    def handler(event, context):
        return "ok"
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
STALE = ("The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to "
         "retrieve the latest Revision Id")


@pytest.fixture(scope="module")
def emulator():
    with Emulator(keep_alive_s=30, account_concurrency=4) as emu:
        yield emu


@pytest.fixture(scope="module")
def client(emulator, emulator_helpers):
    return emulator_helpers.clients(emulator.endpoint)[0]


@pytest.fixture
def pending(emulator):
    """Sets the emulator's Pending delay for one test and puts it back."""
    def set_to(seconds: float) -> None:
        emulator.pending_s = seconds
    yield set_to
    emulator.pending_s = 0


# ----- State ----------------------------------------------------------------------------------
def test_a_function_created_with_a_pending_delay_is_pending_and_refuses_invokes(client, emulator_helpers, pending):
    pending(600)
    emulator_helpers.create(client, "warming", SOURCE, wait=False)
    config = client.get_function_configuration(FunctionName="warming")
    assert (config["State"], config["StateReasonCode"], config["StateReason"]) == (
        "Pending", "Creating", "The function is being created.")
    with pytest.raises(client.exceptions.ResourceConflictException) as excinfo:
        client.invoke(FunctionName="warming", Payload=b"{}")
    assert emulator_helpers.error_of(excinfo.value) == (
        "ResourceConflictException", 409, "The operation cannot be performed at this time. The function is currently "
        "in the following state: Pending")


def test_a_pending_function_becomes_active_after_the_delay(client, emulator_helpers, pending):
    pending(0.2)
    emulator_helpers.create(client, "soon", SOURCE, wait=False)
    client.get_waiter("function_active_v2").wait(FunctionName="soon", WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    config = client.get_function_configuration(FunctionName="soon")
    assert config["State"] == "Active" and "StateReasonCode" not in config


def test_the_pending_delay_is_checked(emulator_helpers):
    from lambdabench.errors import UsageError

    with pytest.raises(UsageError) as excinfo:
        Emulator(pending_s=-1)
    assert "Pending delay" in excinfo.value.message


def test_an_inactive_function_fails_its_first_invoke_and_wakes(emulator, client, emulator_helpers):
    emulator_helpers.create(client, "idle", SOURCE)
    emulator.make_inactive("idle")
    config = client.get_function_configuration(FunctionName="idle")
    assert (config["State"], config["StateReasonCode"]) == ("Inactive", "Idle")
    with pytest.raises(client.exceptions.ResourceConflictException) as excinfo:
        client.invoke(FunctionName="idle", Payload=b"{}")
    assert emulator_helpers.error_of(excinfo.value)[2] == (
        "The operation cannot be performed at this time. The function is currently in the following state: Inactive")
    client.get_waiter("function_active_v2").wait(FunctionName="idle", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    assert client.invoke(FunctionName="idle", Payload=b"{}")["Payload"].read() == b'"ok"'


def test_a_woken_function_is_pending_restoring_until_active(emulator, client, emulator_helpers):
    emulator_helpers.create(client, "dozing", SOURCE)
    emulator.make_inactive("dozing")
    emulator.pending_s = 30.0
    try:
        with pytest.raises(client.exceptions.ResourceConflictException):
            client.invoke(FunctionName="dozing", Payload=b"{}")  # the failed invoke starts the restore
        config = client.get_function_configuration(FunctionName="dozing")
        assert (config["State"], config["StateReason"], config["StateReasonCode"]) == (
            "Pending", "The function is being restored.", "Restoring")
        with pytest.raises(client.exceptions.ResourceConflictException) as excinfo:
            client.invoke(FunctionName="dozing", Payload=b"{}")
        assert emulator_helpers.error_of(excinfo.value)[2].endswith("in the following state: Pending")
    finally:
        emulator.pending_s = 0.0
    client.delete_function(FunctionName="dozing")  # a function created again under its name is being created
    emulator_helpers.create(client, "dozing", SOURCE, wait=False)
    config = client.get_function_configuration(FunctionName="dozing")
    assert config.get("StateReasonCode", "Creating") == "Creating"


# ----- RevisionId -----------------------------------------------------------------------------
def test_every_change_makes_a_new_revision_id(client, emulator_helpers):
    emulator_helpers.create(client, "revs", SOURCE)
    seen = [client.get_function(FunctionName="revs")["Configuration"]["RevisionId"]]
    seen.append(client.update_function_configuration(FunctionName="revs", MemorySize=256)["RevisionId"])
    client.get_waiter("function_updated_v2").wait(FunctionName="revs", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    seen.append(client.update_function_code(FunctionName="revs",
                                            ZipFile=emulator_helpers.zip_of({"app.py": SOURCE + "\n# v2\n"}))
                ["RevisionId"])
    client.get_waiter("function_updated_v2").wait(FunctionName="revs", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    assert len(set(seen)) == 3
    assert client.get_function_configuration(FunctionName="revs")["RevisionId"] == seen[-1]


@pytest.mark.parametrize("operation", ["update_function_configuration", "update_function_code", "publish_version"])
def test_a_second_writers_change_makes_the_first_writers_revision_stale(client, emulator_helpers, operation):
    name = f"shared-{operation.replace('_', '-')}"
    emulator_helpers.create(client, name, SOURCE)
    seen = client.get_function_configuration(FunctionName=name)["RevisionId"]
    colleague = emulator_helpers.second_writer(client.meta.endpoint_url)
    colleague.update_function_configuration(FunctionName=name, Environment={"Variables": {"THEIRS": "1"}})
    colleague.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    kwargs = {"update_function_configuration": {"MemorySize": 512},
              "update_function_code": {"ZipFile": emulator_helpers.zip_of({"app.py": SOURCE})},
              "publish_version": {}}[operation]
    with pytest.raises(client.exceptions.PreconditionFailedException) as excinfo:
        getattr(client, operation)(FunctionName=name, RevisionId=seen, **kwargs)
    assert emulator_helpers.error_of(excinfo.value) == ("PreconditionFailedException", 412, STALE)
    config = client.get_function_configuration(FunctionName=name)
    assert (config["MemorySize"], config["Environment"]["Variables"]) == (128, {"THEIRS": "1"})
    assert client.list_versions_by_function(FunctionName=name)["Versions"][-1]["Version"] == "$LATEST"


def test_a_stale_alias_revision_is_a_precondition_failure(client, emulator_helpers):
    emulator_helpers.create(client, "aliased", SOURCE)
    client.publish_version(FunctionName="aliased")
    seen = client.create_alias(FunctionName="aliased", Name="live", FunctionVersion="1")["RevisionId"]
    colleague = emulator_helpers.second_writer(client.meta.endpoint_url)
    after = colleague.update_alias(FunctionName="aliased", Name="live", Description="theirs")["RevisionId"]
    assert after != seen
    with pytest.raises(client.exceptions.PreconditionFailedException) as excinfo:
        client.update_alias(FunctionName="aliased", Name="live", FunctionVersion="$LATEST", RevisionId=seen)
    assert emulator_helpers.error_of(excinfo.value) == ("PreconditionFailedException", 412, STALE)
    assert client.get_alias(FunctionName="aliased", Name="live")["FunctionVersion"] == "1"


# ----- environment limit ----------------------------------------------------------------------
def _variables_of_json_size(size: int) -> dict[str, str]:
    """{"BIG": "xxx..."} whose compact JSON is exactly `size` bytes."""
    overhead = len(json.dumps({"BIG": ""}, separators=(",", ":")))
    return {"BIG": "x" * (size - overhead)}


def test_an_environment_of_exactly_4_kb_as_json_is_accepted(client, emulator_helpers):
    variables = _variables_of_json_size(limits.ENVIRONMENT_MAX_BYTES)
    emulator_helpers.create(client, "full-env", SOURCE, Environment={"Variables": variables})
    assert client.get_function_configuration(FunctionName="full-env")["Environment"]["Variables"] == variables


@pytest.mark.parametrize("operation", ["create_function", "update_function_configuration"])
def test_an_environment_over_4_kb_as_json_is_refused_quoting_the_measured_string(client, emulator_helpers,
                                                                                 operation):
    # 4,090 bytes of keys and values: under 4 KB summed, over it as Lambda measures (the JSON of the map).
    variables = {f"K{i}": "v" * 405 for i in range(10)}
    assert sum(len(k) + len(v) for k, v in variables.items()) < limits.ENVIRONMENT_MAX_BYTES
    measured = json.dumps(variables, separators=(",", ":"))
    if operation == "update_function_configuration":
        emulator_helpers.create(client, "env-update", SOURCE)
        call = lambda: client.update_function_configuration(FunctionName="env-update",  # noqa: E731
                                                            Environment={"Variables": variables})
    else:
        call = lambda: emulator_helpers.create(client, "env-create", SOURCE, wait=False,  # noqa: E731
                                               Environment={"Variables": variables})
    with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
        call()
    assert emulator_helpers.error_of(excinfo.value) == (
        "InvalidParameterValueException", 400, "Lambda was unable to configure your environment variables because the "
        f"environment variables you have provided exceeded the 4KB limit. String measured: {measured}")


# ----- CapacityProviderConfig -------------------------------------------------------------------
def test_capacity_provider_config_is_accepted_and_reported(client, emulator_helpers):
    capacity = {"LambdaManagedInstancesCapacityProviderConfig": {
        "CapacityProviderArn": "arn:aws:lambda:us-east-1:123456789012:capacity-provider:fleet",
        "PerExecutionEnvironmentMaxConcurrency": 16, "ExecutionEnvironmentMemoryGiBPerVCpu": 2.0}}
    emulator_helpers.create(client, "managed", SOURCE, CapacityProviderConfig=capacity)
    assert client.get_function_configuration(FunctionName="managed")["CapacityProviderConfig"] == capacity
    assert client.get_function(FunctionName="managed")["Configuration"]["CapacityProviderConfig"] == capacity


def test_an_on_demand_function_reports_no_capacity_provider(client, emulator_helpers):
    emulator_helpers.create(client, "on-demand", SOURCE)
    assert "CapacityProviderConfig" not in client.get_function_configuration(FunctionName="on-demand")


def test_a_function_recreated_under_an_inactive_ones_name_is_active(emulator, client, emulator_helpers):
    emulator_helpers.create(client, "replaced", SOURCE)
    emulator.make_inactive("replaced")
    client.delete_function(FunctionName="replaced")
    emulator_helpers.create(client, "replaced", SOURCE)
    assert client.get_function_configuration(FunctionName="replaced")["State"] == "Active"


def test_only_an_existing_function_can_be_made_inactive(emulator):
    from lambdabench.emulator.errors import ResourceNotFound

    with pytest.raises(ResourceNotFound) as excinfo:
        emulator.make_inactive("never-created")
    assert excinfo.value.message == f"Function not found: {ARN}never-created"
