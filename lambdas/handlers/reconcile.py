"""Scheduled `reconcile`: compare bucket, catalog and index per tenant and repair drift."""

import boto3

from handlers._powertools import logger, metrics, pipeline_handler
from ragline.reconcile import StepFunctionsIngest, reconcile
from ragline.services import get_services


@pipeline_handler
def handler(event, context):
    services = get_services()
    executions = StepFunctionsIngest(boto3.client("stepfunctions"), services.settings.ingest_state_machine_arn)
    report = reconcile(services, executions, tenants=event.get("tenants"))
    counts = report.counts()
    logger.info("reconciled", extra=counts)
    for name in ("missing", "stale", "orphan_rows", "orphan_points", "stuck"):
        metrics.add_metric(name=f"Reconcile_{name}", unit="Count", value=counts[name])
    return report.model_dump()
