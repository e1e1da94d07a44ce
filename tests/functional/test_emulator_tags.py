"""Function tags through real boto3: CreateFunction's Tags, TagResource/UntagResource/ListTags on the
function ARN, GetFunction's Tags, and tags going with a deleted function."""

from __future__ import annotations

import pytest

from lambdabench.emulator import Emulator

SOURCE = """
    def handler(event, context):
        return "ok"
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.fixture(scope="module")
def client(emulator_helpers):
    with Emulator(keep_alive_s=30, account_concurrency=4) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        yield client


def test_tags_given_at_creation_are_listed_and_returned_by_get_function(client, emulator_helpers):
    emulator_helpers.create(client, "tagged", SOURCE, Tags={"lambdabench:sweep": "run-1", "team": "perf"})
    assert client.list_tags(Resource=ARN + "tagged")["Tags"] == {"lambdabench:sweep": "run-1", "team": "perf"}
    assert client.get_function(FunctionName="tagged")["Tags"] == {"lambdabench:sweep": "run-1", "team": "perf"}


def test_tag_resource_adds_and_overwrites_and_untag_resource_removes(client, emulator_helpers):
    emulator_helpers.create(client, "retagged", SOURCE, Tags={"a": "1", "b": "2"})
    client.tag_resource(Resource=ARN + "retagged", Tags={"b": "20", "c": "3"})
    assert client.list_tags(Resource=ARN + "retagged")["Tags"] == {"a": "1", "b": "20", "c": "3"}
    client.untag_resource(Resource=ARN + "retagged", TagKeys=["a", "c", "never-set"])
    assert client.list_tags(Resource=ARN + "retagged")["Tags"] == {"b": "20"}


def test_an_untagged_function_lists_no_tags_and_get_function_has_no_tags_key(client, emulator_helpers):
    emulator_helpers.create(client, "bare", SOURCE)
    assert client.list_tags(Resource=ARN + "bare")["Tags"] == {}
    assert "Tags" not in client.get_function(FunctionName="bare")


def test_tags_of_a_missing_function_are_resource_not_found(client, emulator_helpers):
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.list_tags(Resource=ARN + "missing")
    assert emulator_helpers.error_of(excinfo.value) == (
        "ResourceNotFoundException", 404, f"Function not found: {ARN}missing")


def test_a_deleted_function_takes_its_tags_along(client, emulator_helpers):
    emulator_helpers.create(client, "reborn", SOURCE, Tags={"old": "yes"})
    client.delete_function(FunctionName="reborn")
    emulator_helpers.create(client, "reborn", SOURCE)
    assert client.list_tags(Resource=ARN + "reborn")["Tags"] == {}


def test_aws_prefixed_tag_keys_are_refused(client, emulator_helpers):
    emulator_helpers.create(client, "reserved-tags", SOURCE)
    with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
        client.tag_resource(Resource=ARN + "reserved-tags", Tags={"aws:cloudformation:stack-name": "x"})
    assert emulator_helpers.error_of(excinfo.value) == (
        "InvalidParameterValueException", 400, "Tag keys starting with 'aws:' are reserved for AWS use.")


def test_a_create_with_bad_tags_creates_nothing(client, emulator_helpers):
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        emulator_helpers.create(client, "never", SOURCE, wait=False, Tags={"aws:x": "y"})
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName="never")


def test_more_than_50_tags_are_refused(client, emulator_helpers):
    emulator_helpers.create(client, "crowded", SOURCE, Tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(client.exceptions.InvalidParameterValueException) as excinfo:
        client.tag_resource(Resource=ARN + "crowded", Tags={"one-more": "v"})
    assert emulator_helpers.error_of(excinfo.value)[2] == (
        "Number of tags exceeds resource tag limit. A resource can have at most 50 tags.")
    assert len(client.list_tags(Resource=ARN + "crowded")["Tags"]) == 50


# -- Resource Groups Tagging API: GetResources (what `lambdabench cleanup` finds copies with) ---------------

@pytest.fixture(scope="module")
def tagging(client):
    import boto3

    return boto3.client("resourcegroupstaggingapi", endpoint_url=client.meta.endpoint_url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_get_resources_finds_functions_by_tag_key_and_value(client, tagging, emulator_helpers):
    emulator_helpers.create(client, "gr-copy-1", SOURCE, Tags={"lambdabench:sweep": "r1", "lambdabench:source": "x"})
    emulator_helpers.create(client, "gr-copy-2", SOURCE, Tags={"lambdabench:sweep": "r2"})
    emulator_helpers.create(client, "gr-other", SOURCE, Tags={"team": "perf"})
    emulator_helpers.create(client, "gr-untagged", SOURCE)
    found = tagging.get_resources(ResourceTypeFilters=["lambda:function"], TagFilters=[{"Key": "lambdabench:sweep"}])
    mine = [m for m in found["ResourceTagMappingList"] if ":function:gr-" in m["ResourceARN"]]
    assert mine == [
        {"ResourceARN": ARN + "gr-copy-1", "Tags": [{"Key": "lambdabench:source", "Value": "x"},
                                                    {"Key": "lambdabench:sweep", "Value": "r1"}]},
        {"ResourceARN": ARN + "gr-copy-2", "Tags": [{"Key": "lambdabench:sweep", "Value": "r2"}]}]
    assert found["PaginationToken"] == ""
    one = tagging.get_resources(TagFilters=[{"Key": "lambdabench:sweep", "Values": ["r2"]}])
    assert [m["ResourceARN"] for m in one["ResourceTagMappingList"]] == [ARN + "gr-copy-2"]
    # the emulator holds Lambda functions only: another service's type matches nothing
    assert tagging.get_resources(ResourceTypeFilters=["s3:bucket"])["ResourceTagMappingList"] == []


def test_get_resources_pages_and_refuses_bad_parameters(client, tagging, emulator_helpers):
    for i in range(3):
        emulator_helpers.create(client, f"gr-page-{i}", SOURCE, Tags={"paged": "yes"})
    arns, token, pages = [], "", 0
    while True:
        page = tagging.get_resources(TagFilters=[{"Key": "paged"}], ResourcesPerPage=2,
                                     **({"PaginationToken": token} if token else {}))
        arns += [m["ResourceARN"] for m in page["ResourceTagMappingList"]]
        pages += 1
        token = page["PaginationToken"]
        if not token:
            break
    assert arns == [ARN + f"gr-page-{i}" for i in range(3)] and pages == 2
    with pytest.raises(tagging.exceptions.InvalidParameterException, match="ResourcesPerPage must be between 1"):
        tagging.get_resources(ResourcesPerPage=101)
    with pytest.raises(tagging.exceptions.PaginationTokenExpiredException):
        tagging.get_resources(PaginationToken="not-ours")
