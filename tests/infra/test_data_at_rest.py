"""Encryption and TLS-only wherever data rests; public access blocked; prod retains data and
has deletion protection, dev does not."""

from __future__ import annotations

import pytest

from tests.infra.cfn_helpers import as_list, refs


def _key_id(template, stack):
    return template.logical_id(stack.storage.key)


def _eventbridge_buckets(template) -> set[str]:
    """Buckets whose S3 events go to EventBridge (CDK sets it with a custom resource)."""
    found = set()
    for resource in template.of_type("Custom::S3BucketNotifications").values():
        props = resource["Properties"]
        if "EventBridgeConfiguration" in props["NotificationConfiguration"]:
            found |= refs(props["BucketName"])
    for bucket_id, bucket in template.of_type("AWS::S3::Bucket").items():
        configuration = bucket["Properties"].get("NotificationConfiguration", {})
        if configuration.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            found.add(bucket_id)
    return found


def _denies_insecure_transport(policy_document: dict, target_id: str) -> bool:
    for statement in as_list(policy_document["Statement"]):
        condition = statement.get("Condition", {}).get("Bool", {})
        if (statement["Effect"] == "Deny" and condition.get("aws:SecureTransport") == "false"
                and target_id in refs(statement.get("Resource"))):
            return True
    return False


def test_every_bucket_is_encrypted_private_and_tls_only(template, stack):
    key_id = _key_id(template, stack)
    buckets = template.of_type("AWS::S3::Bucket")
    assert len(buckets) == 4  # documents, artifacts, access logs, web site
    kms_buckets = {template.logical_id(stack.storage.documents_bucket),
                   template.logical_id(stack.storage.artifacts_bucket)}
    policies = template.of_type("AWS::S3::BucketPolicy")
    for bucket_id, bucket in buckets.items():
        props = bucket["Properties"]
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        default = rule["ServerSideEncryptionByDefault"]
        if bucket_id in kms_buckets:
            assert default["SSEAlgorithm"] == "aws:kms"
            assert refs(default["KMSMasterKeyID"]) == {key_id}
            assert rule["BucketKeyEnabled"] is True
        else:
            # Access-log delivery and CloudFront OAC need SSE-S3; still encrypted at rest.
            assert default["SSEAlgorithm"] == "AES256", bucket_id
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        }, bucket_id
        bucket_policies = [p["Properties"]["PolicyDocument"] for p in policies.values()
                           if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
        assert any(_denies_insecure_transport(doc, bucket_id) for doc in bucket_policies), \
            f"{bucket_id} accepts plain HTTP"


def test_documents_bucket_versioned_with_eventbridge_and_upload_cors(template, stack):
    bucket_id = template.logical_id(stack.storage.documents_bucket)
    props = template.props(bucket_id)
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert _eventbridge_buckets(template) == {bucket_id}
    (cors,) = props["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["PUT"]
    distribution = template.logical_id(stack.hosting.distribution)
    origins = cors["AllowedOrigins"]
    assert "*" not in origins
    assert distribution in refs(origins[0])
    assert origins[1:] == stack.config.web.allowed_origins
    assert props["LoggingConfiguration"]["DestinationBucketName"] == \
        {"Ref": template.logical_id(stack.storage.logs_bucket)}


def test_derived_objects_expire_and_never_trigger_ingestion(template, stack):
    bucket_id = template.logical_id(stack.storage.artifacts_bucket)
    props = template.props(bucket_id)
    assert bucket_id not in _eventbridge_buckets(template)
    assert "NotificationConfiguration" not in props
    rules = props["LifecycleConfiguration"]["Rules"]
    assert any(r.get("ExpirationInDays") == stack.config.storage.artifacts_expiration_days
               and r["Status"] == "Enabled" for r in rules)


def test_queue_topic_secrets_database_cache_and_logs_use_the_stack_key(template, stack):
    key_id = _key_id(template, stack)
    (queue_id, queue), = template.of_type("AWS::SQS::Queue").items()
    assert refs(queue["Properties"]["KmsMasterKeyId"]) == {key_id}
    (topic_id, topic), = template.of_type("AWS::SNS::Topic").items()
    assert refs(topic["Properties"]["KmsMasterKeyId"]) == {key_id}
    for queue_policy in template.of_type("AWS::SQS::QueuePolicy").values():
        assert _denies_insecure_transport(queue_policy["Properties"]["PolicyDocument"], queue_id)
    topic_policies = [p["Properties"]["PolicyDocument"]
                      for p in template.of_type("AWS::SNS::TopicPolicy").values()]
    assert any(_denies_insecure_transport(doc, topic_id) for doc in topic_policies)

    secrets = template.of_type("AWS::SecretsManager::Secret")
    assert len(secrets) == 3  # catalog, OpenAI, Qdrant
    for secret_id, secret in secrets.items():
        assert refs(secret["Properties"]["KmsKeyId"]) == {key_id}, secret_id
        # Generated by Secrets Manager: no value in the template.
        assert "SecretString" not in secret["Properties"], secret_id

    (db_id, db), = template.of_type("AWS::RDS::DBInstance").items()
    assert db["Properties"]["StorageEncrypted"] is True
    assert refs(db["Properties"]["KmsKeyId"]) == {key_id}
    assert db["Properties"]["PubliclyAccessible"] is False
    assert "{{resolve:secretsmanager" in str(db["Properties"]["MasterUserPassword"])

    (cache_id, cache), = template.of_type("AWS::ElastiCache::ServerlessCache").items()
    assert refs(cache["Properties"]["KmsKeyId"]) == {key_id}

    for log_id, log_group in template.of_type("AWS::Logs::LogGroup").items():
        assert refs(log_group["Properties"].get("KmsKeyId")) == {key_id}, f"{log_id} unencrypted"
        assert log_group["Properties"]["RetentionInDays"] == stack.config.log_retention_days

    (key,) = template.of_type("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True


def test_database_and_cache_sit_in_isolated_subnets(template, stack):
    isolated = {template.logical_id(s) for s in stack.data.vpc.isolated_subnets}
    (group,) = template.of_type("AWS::RDS::DBSubnetGroup").values()
    assert refs(group["Properties"]["SubnetIds"]) == isolated
    (cache,) = template.of_type("AWS::ElastiCache::ServerlessCache").values()
    assert refs(cache["Properties"]["SubnetIds"]) == isolated
    nat = template.of_type("AWS::EC2::NatGateway")
    assert len(nat) == stack.config.network.nat_gateways


def _policy(resource: dict) -> tuple[str | None, str | None]:
    return resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")


def _data_resources(template, stack) -> dict[str, str]:
    ids = {
        "documents bucket": template.logical_id(stack.storage.documents_bucket),
        "artifacts bucket": template.logical_id(stack.storage.artifacts_bucket),
        "access-log bucket": template.logical_id(stack.storage.logs_bucket),
        "key": template.logical_id(stack.storage.key),
        "cache": template.logical_id(stack.data.cache),
        "dead-letter queue": template.logical_id(stack.dead_letter_queue),
        "user pool": template.logical_id(stack.auth.user_pool),
    }
    for name, secret in (("catalog secret", stack.data.catalog_secret),
                         ("openai secret", stack.data.openai_secret),
                         ("qdrant secret", stack.data.qdrant_secret)):
        ids[name] = template.logical_id(secret)
    return ids


def test_prod_retains_data_and_has_deletion_protection(synth):
    from tests.infra.cfn_helpers import CfnTemplate

    stack = synth.stacks["prod"]
    template = CfnTemplate(synth.templates["prod"])
    for name, logical_id in _data_resources(template, stack).items():
        assert _policy(template.resources[logical_id]) == ("Retain", "Retain"), name
    db = template.resources[template.logical_id(stack.data.database)]
    assert _policy(db) == ("Snapshot", "Snapshot")
    assert db["Properties"]["DeletionProtection"] is True
    assert db["Properties"]["DeleteAutomatedBackups"] is False
    pool = template.props(template.logical_id(stack.auth.user_pool))
    assert pool["DeletionProtection"] == "ACTIVE"
    for log_group in template.of_type("AWS::Logs::LogGroup").values():
        assert _policy(log_group) == ("Retain", "Retain")
    assert not template.of_type("Custom::S3AutoDeleteObjects").keys() - {
        # the web site bucket only holds the build, redeployed from source
        lid for lid, r in template.of_type("Custom::S3AutoDeleteObjects").items()
        if refs(r["Properties"]["BucketName"]) == {template.logical_id(stack.hosting.bucket)}
    }
    assert stack.termination_protection is True


@pytest.mark.parametrize("env_name", ["dev", "staging"])
def test_dev_and_staging_delete_everything_on_destroy(synth, env_name):
    from tests.infra.cfn_helpers import CfnTemplate

    stack = synth.stacks[env_name]
    template = CfnTemplate(synth.templates[env_name])
    for name, logical_id in _data_resources(template, stack).items():
        assert _policy(template.resources[logical_id]) == ("Delete", "Delete"), name
    db = template.resources[template.logical_id(stack.data.database)]
    assert _policy(db) == ("Delete", "Delete")
    assert db["Properties"]["DeletionProtection"] is False
    pool = template.props(template.logical_id(stack.auth.user_pool))
    assert pool["DeletionProtection"] == "INACTIVE"
    # Buckets are emptied first, or CloudFormation could not delete them.
    emptied = {next(iter(refs(r["Properties"]["BucketName"])))
               for r in template.of_type("Custom::S3AutoDeleteObjects").values()}
    for bucket in (stack.storage.documents_bucket, stack.storage.artifacts_bucket,
                   stack.storage.logs_bucket):
        assert template.logical_id(bucket) in emptied
    assert stack.termination_protection is False


def test_service_written_logs_land_in_encrypted_log_groups_of_the_stack(template, stack):
    """RDS and API Gateway create their log groups on first write unless they exist: the stack
    creates them (encrypted, with retention) under the names those services use."""
    names = {str(g["Properties"].get("LogGroupName")): lid
             for lid, g in template.of_type("AWS::Logs::LogGroup").items()}
    db = template.props(template.logical_id(stack.data.database))
    for log_type in db["EnableCloudwatchLogsExports"]:
        name = f"/aws/rds/instance/{db['DBInstanceIdentifier']}/{log_type}"
        assert name in names, name
    execution_logs = [lid for name, lid in names.items() if "API-Gateway-Execution-Logs_" in name]
    assert execution_logs == [template.logical_id(stack.api.execution_logs)]
