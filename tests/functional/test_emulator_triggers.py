"""Triggers as state, through real boto3: event source mappings (create/list/get/delete, nothing polled)
and function URL configs (create/get/update/delete/list, qualifier aware)."""

from __future__ import annotations

import re

import pytest

from lambdabench.emulator import Emulator

SOURCE = """
    def handler(event, context):
        return "ok"
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:orders"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
NOT_FOUND = "The resource you requested does not exist."


@pytest.fixture(scope="module")
def client(emulator_helpers):
    with Emulator(keep_alive_s=30, account_concurrency=4) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        yield client


# ----- event source mappings --------------------------------------------------------------------
def test_a_new_mapping_is_creating_then_enabled(client, emulator_helpers):
    emulator_helpers.create(client, "consumer", SOURCE)
    created = client.create_event_source_mapping(FunctionName="consumer", EventSourceArn=QUEUE)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (created["State"], created["FunctionArn"], created["EventSourceArn"], created["BatchSize"]) == (
        "Creating", ARN + "consumer", QUEUE, 10)
    assert re.fullmatch(r"[0-9a-f-]{36}", created["UUID"])
    fetched = client.get_event_source_mapping(UUID=created["UUID"])
    assert (fetched["State"], fetched["UUID"]) == ("Enabled", created["UUID"])


def test_mappings_are_listed_by_function_and_by_event_source(client, emulator_helpers):
    emulator_helpers.create(client, "lister", SOURCE)
    emulator_helpers.create(client, "other", SOURCE)
    client.publish_version(FunctionName="lister")
    client.create_alias(FunctionName="lister", Name="prod", FunctionVersion="1")
    on_latest = client.create_event_source_mapping(FunctionName="lister", EventSourceArn=STREAM,
                                                   StartingPosition="LATEST")["UUID"]
    on_alias = client.create_event_source_mapping(FunctionName="lister:prod", EventSourceArn=QUEUE,
                                                  Enabled=False)["UUID"]
    elsewhere = client.create_event_source_mapping(FunctionName="other", EventSourceArn=STREAM,
                                                   StartingPosition="LATEST")["UUID"]

    def uuids(**filters):
        return [m["UUID"] for m in client.list_event_source_mappings(**filters)["EventSourceMappings"]]

    assert uuids(FunctionName="lister") == [on_latest, on_alias]
    assert uuids(FunctionName="lister:prod") == [on_alias]
    assert uuids(FunctionName=ARN + "lister") == [on_latest, on_alias]
    assert uuids(EventSourceArn=STREAM, FunctionName="other") == [elsewhere]
    alias_mapping = client.get_event_source_mapping(UUID=on_alias)
    assert (alias_mapping["State"], alias_mapping["FunctionArn"]) == ("Disabled", ARN + "lister:prod")
    assert client.get_event_source_mapping(UUID=on_latest)["BatchSize"] == 100


def test_mappings_page_with_markers(client, emulator_helpers):
    emulator_helpers.create(client, "paged", SOURCE)
    made = [client.create_event_source_mapping(FunctionName="paged", EventSourceArn=f"{QUEUE}-{i}")["UUID"]
            for i in range(3)]
    first = client.list_event_source_mappings(FunctionName="paged", MaxItems=2)
    second = client.list_event_source_mappings(FunctionName="paged", MaxItems=2, Marker=first["NextMarker"])
    assert [m["UUID"] for m in first["EventSourceMappings"] + second["EventSourceMappings"]] == made
    assert "NextMarker" not in second


def test_a_deleted_mapping_answers_deleting_then_is_gone(client, emulator_helpers):
    emulator_helpers.create(client, "unhooked", SOURCE)
    mapping_id = client.create_event_source_mapping(FunctionName="unhooked", EventSourceArn=QUEUE)["UUID"]
    deleted = client.delete_event_source_mapping(UUID=mapping_id)
    assert (deleted["ResponseMetadata"]["HTTPStatusCode"], deleted["State"]) == (202, "Deleting")
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.get_event_source_mapping(UUID=mapping_id)
    assert emulator_helpers.error_of(excinfo.value) == ("ResourceNotFoundException", 404, NOT_FOUND)
    assert client.list_event_source_mappings(FunctionName="unhooked")["EventSourceMappings"] == []


def test_a_mapping_for_a_missing_function_is_resource_not_found(client, emulator_helpers):
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.create_event_source_mapping(FunctionName="ghost", EventSourceArn=QUEUE)
    assert emulator_helpers.error_of(excinfo.value) == (
        "ResourceNotFoundException", 404, f"Function not found: {ARN}ghost")


# ----- function URL configs -----------------------------------------------------------------------
def test_a_function_url_config_is_created_read_and_listed(client, emulator_helpers):
    emulator_helpers.create(client, "web", SOURCE)
    created = client.create_function_url_config(FunctionName="web", AuthType="NONE",
                                                Cors={"AllowOrigins": ["*"]})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"https://[a-z0-9]{32}\.lambda-url\.us-east-1\.on\.aws/", created["FunctionUrl"])
    assert (created["FunctionArn"], created["AuthType"], created["InvokeMode"], created["Cors"]) == (
        ARN + "web", "NONE", "BUFFERED", {"AllowOrigins": ["*"]})
    fetched = client.get_function_url_config(FunctionName="web")
    assert fetched["FunctionUrl"] == created["FunctionUrl"]
    assert fetched["LastModifiedTime"] == created["CreationTime"]
    listed = client.list_function_url_configs(FunctionName="web")["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [created["FunctionUrl"]]


def test_an_alias_has_its_own_function_url(client, emulator_helpers):
    emulator_helpers.create(client, "webalias", SOURCE)
    client.publish_version(FunctionName="webalias")
    client.create_alias(FunctionName="webalias", Name="live", FunctionVersion="1")
    on_alias = client.create_function_url_config(FunctionName="webalias", Qualifier="live", AuthType="AWS_IAM")
    assert on_alias["FunctionArn"] == ARN + "webalias:live"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function_url_config(FunctionName="webalias")
    on_latest = client.create_function_url_config(FunctionName="webalias", AuthType="NONE")
    listed = client.list_function_url_configs(FunctionName="webalias")["FunctionUrlConfigs"]
    assert sorted(c["FunctionArn"] for c in listed) == [ARN + "webalias", ARN + "webalias:live"]
    assert on_latest["FunctionUrl"] != on_alias["FunctionUrl"]


def test_a_second_url_config_is_a_conflict(client, emulator_helpers):
    emulator_helpers.create(client, "twice", SOURCE)
    client.create_function_url_config(FunctionName="twice", AuthType="NONE")
    with pytest.raises(client.exceptions.ResourceConflictException) as excinfo:
        client.create_function_url_config(FunctionName="twice", AuthType="NONE")
    assert emulator_helpers.error_of(excinfo.value) == (
        "ResourceConflictException", 409, f"Failed to create function url config for [functionArn = {ARN}twice]. "
        "Error message:  FunctionUrlConfig exists for this Lambda function")


def test_update_and_delete_a_url_config(client, emulator_helpers):
    emulator_helpers.create(client, "changing", SOURCE)
    client.create_function_url_config(FunctionName="changing", AuthType="NONE")
    updated = client.update_function_url_config(FunctionName="changing", AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM"
    client.delete_function_url_config(FunctionName="changing")
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.get_function_url_config(FunctionName="changing")
    assert emulator_helpers.error_of(excinfo.value) == ("ResourceNotFoundException", 404, NOT_FOUND)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_function_url_config(FunctionName="changing")


def test_a_url_config_on_a_published_version_is_refused(client, emulator_helpers):
    emulator_helpers.create(client, "versioned", SOURCE)
    client.publish_version(FunctionName="versioned")
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        client.create_function_url_config(FunctionName="versioned", Qualifier="1", AuthType="NONE")
    assert emulator_helpers.error_of(excinfo.value)[:2] == ("ValidationException", 400)


def test_a_deleted_function_takes_its_url_configs_along(client, emulator_helpers):
    emulator_helpers.create(client, "gone", SOURCE)
    client.create_function_url_config(FunctionName="gone", AuthType="NONE")
    client.delete_function(FunctionName="gone")
    emulator_helpers.create(client, "gone", SOURCE)
    assert client.list_function_url_configs(FunctionName="gone")["FunctionUrlConfigs"] == []
