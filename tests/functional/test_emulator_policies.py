"""Resource policies through real boto3: AddPermission / GetPolicy / RemovePermission, statements
written as Lambda writes them, per-qualifier policies and RevisionId preconditions."""

from __future__ import annotations

import json

import pytest

from lambdabench.emulator import Emulator

SOURCE = """
    def handler(event, context):
        return "ok"
"""
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
STALE = ("The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the "
         "latest Revision Id")


@pytest.fixture(scope="module")
def client(emulator_helpers):
    with Emulator(keep_alive_s=30, account_concurrency=4) as emu:
        client, _ = emulator_helpers.clients(emu.endpoint)
        yield client


def test_add_permission_answers_the_statement_and_get_policy_the_whole_policy(client, emulator_helpers):
    emulator_helpers.create(client, "api", SOURCE)
    added = client.add_permission(FunctionName="api", StatementId="apigw", Action="lambda:InvokeFunction",
                                  Principal="apigateway.amazonaws.com",
                                  SourceArn="arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/")
    statement = {"Sid": "apigw", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
                 "Action": "lambda:InvokeFunction", "Resource": ARN + "api",
                 "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/"}}}
    assert json.loads(added["Statement"]) == statement
    policy = client.get_policy(FunctionName="api")
    assert isinstance(policy["Policy"], str)
    assert json.loads(policy["Policy"]) == {"Version": "2012-10-17", "Id": "default", "Statement": [statement]}
    assert len(policy["RevisionId"]) == 36


def test_account_principals_and_conditions_are_written_as_lambda_writes_them(client, emulator_helpers):
    emulator_helpers.create(client, "shared", SOURCE)
    client.add_permission(FunctionName="shared", StatementId="acct", Action="InvokeFunction",
                          Principal="210987654321")
    client.add_permission(FunctionName="shared", StatementId="s3", Action="lambda:InvokeFunction",
                          Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket",
                          SourceAccount="123456789012")
    statements = json.loads(client.get_policy(FunctionName="shared")["Policy"])["Statement"]
    assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::210987654321:root"}
    assert statements[0]["Action"] == "lambda:InvokeFunction"
    assert statements[1]["Condition"] == {"StringEquals": {"AWS:SourceAccount": "123456789012"},
                                          "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}}


def test_a_function_without_permissions_has_no_policy(client, emulator_helpers):
    emulator_helpers.create(client, "private", SOURCE)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.get_policy(FunctionName="private")
    assert emulator_helpers.error_of(excinfo.value) == (
        "ResourceNotFoundException", 404, "The resource you requested does not exist.")


def test_an_alias_has_its_own_policy(client, emulator_helpers):
    emulator_helpers.create(client, "aliased", SOURCE)
    client.publish_version(FunctionName="aliased")
    client.create_alias(FunctionName="aliased", Name="live", FunctionVersion="1")
    client.add_permission(FunctionName="aliased", Qualifier="live", StatementId="sns", Action="lambda:InvokeFunction",
                          Principal="sns.amazonaws.com")
    statement = json.loads(client.get_policy(FunctionName="aliased", Qualifier="live")["Policy"])["Statement"][0]
    assert statement["Resource"] == ARN + "aliased:live"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_policy(FunctionName="aliased")


def test_remove_permission_deletes_the_statement_and_changes_the_revision(client, emulator_helpers):
    emulator_helpers.create(client, "revoked", SOURCE)
    client.add_permission(FunctionName="revoked", StatementId="one", Action="lambda:InvokeFunction",
                          Principal="events.amazonaws.com")
    first = client.get_policy(FunctionName="revoked")["RevisionId"]
    client.add_permission(FunctionName="revoked", StatementId="two", Action="lambda:InvokeFunction",
                          Principal="sqs.amazonaws.com", RevisionId=first)
    second = client.get_policy(FunctionName="revoked")["RevisionId"]
    assert second != first
    client.remove_permission(FunctionName="revoked", StatementId="one", RevisionId=second)
    policy = client.get_policy(FunctionName="revoked")
    assert [s["Sid"] for s in json.loads(policy["Policy"])["Statement"]] == ["two"]
    assert policy["RevisionId"] not in (first, second)


def test_a_stale_revision_id_is_a_precondition_failure(client, emulator_helpers):
    emulator_helpers.create(client, "contended", SOURCE)
    client.add_permission(FunctionName="contended", StatementId="one", Action="lambda:InvokeFunction",
                          Principal="events.amazonaws.com")
    seen = client.get_policy(FunctionName="contended")["RevisionId"]
    colleague = emulator_helpers.second_writer(client.meta.endpoint_url)
    colleague.add_permission(FunctionName="contended", StatementId="theirs", Action="lambda:InvokeFunction",
                             Principal="sns.amazonaws.com")
    with pytest.raises(client.exceptions.PreconditionFailedException) as excinfo:
        client.add_permission(FunctionName="contended", StatementId="mine", Action="lambda:InvokeFunction",
                              Principal="sqs.amazonaws.com", RevisionId=seen)
    assert emulator_helpers.error_of(excinfo.value) == ("PreconditionFailedException", 412, STALE)
    with pytest.raises(client.exceptions.PreconditionFailedException) as excinfo:
        client.remove_permission(FunctionName="contended", StatementId="one", RevisionId=seen)
    assert emulator_helpers.error_of(excinfo.value) == ("PreconditionFailedException", 412, STALE)
    sids = [s["Sid"] for s in json.loads(client.get_policy(FunctionName="contended")["Policy"])["Statement"]]
    assert sids == ["one", "theirs"]


def test_a_duplicate_statement_id_is_a_conflict_and_an_unknown_one_not_found(client, emulator_helpers):
    emulator_helpers.create(client, "dupes", SOURCE)
    client.add_permission(FunctionName="dupes", StatementId="same", Action="lambda:InvokeFunction",
                          Principal="s3.amazonaws.com")
    with pytest.raises(client.exceptions.ResourceConflictException) as excinfo:
        client.add_permission(FunctionName="dupes", StatementId="same", Action="lambda:InvokeFunction",
                              Principal="s3.amazonaws.com")
    assert emulator_helpers.error_of(excinfo.value) == (
        "ResourceConflictException", 409, "The statement id (same) provided already exists. Please provide a new "
        "statement id, or remove the existing statement.")
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.remove_permission(FunctionName="dupes", StatementId="other")
    assert emulator_helpers.error_of(excinfo.value) == (
        "ResourceNotFoundException", 404, "Statement other is not found in resource policy.")


def test_permissions_on_a_missing_function_are_resource_not_found(client, emulator_helpers):
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.add_permission(FunctionName="ghost", StatementId="x", Action="lambda:InvokeFunction",
                              Principal="s3.amazonaws.com")
    assert emulator_helpers.error_of(excinfo.value)[2] == f"Function not found: {ARN}ghost"

