"""`ragline reconcile`: compare bucket, catalog and index per tenant and repair the drift.

It runs the very function the schedule runs on AWS (`handlers.reconcile`), by invoking it in
the running `ragline dev` (the index is open in that process: another process cannot open
it), and prints what it found and did.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import boto3
from rich.console import Console
from rich.table import Table

from ragline.reconcile import ReconcileReport
from ragline_local.runtime import REGION, StackError

FUNCTION_NAME = "ragline-reconcile"
KINDS = ("missing", "stale", "orphan_rows", "stuck", "orphan_points")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    parser = sub.add_parser("reconcile", help="repair drift between bucket, catalog and index")
    parser.add_argument("--tenant", action="append", help="only this tenant (repeatable); default: all")
    parser.add_argument("--wait", action="store_true", help="wait for the re-ingestions it starts")
    return parser


def run(endpoints: dict[str, Any] | None, tenants: list[str] | None = None) -> ReconcileReport:
    """Invoke the reconcile function of the running local stack and return its report."""
    if not endpoints:
        raise StackError("`ragline reconcile` needs the running local stack: start `ragline dev` first.")
    client = boto3.client("lambda", endpoint_url=endpoints["aws_endpoint_url"], region_name=REGION,
                          aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
    response = client.invoke(FunctionName=FUNCTION_NAME, Payload=json.dumps({"tenants": tenants}))
    payload = json.loads(response["Payload"].read())
    if response.get("FunctionError"):
        raise StackError(f"reconcile failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
    return ReconcileReport.model_validate(payload)


def wait_for(endpoints: dict[str, Any], executions: list[str], timeout_s: float = 1800) -> None:
    sfn = boto3.client("stepfunctions", endpoint_url=endpoints["aws_endpoint_url"], region_name=REGION,
                       aws_access_key_id="local", aws_secret_access_key="local")  # fmt: skip
    deadline = time.monotonic() + timeout_s
    pending = set(executions)
    while pending and time.monotonic() < deadline:
        pending = {e for e in pending if sfn.describe_execution(executionArn=e)["status"] == "RUNNING"}
        time.sleep(0.5)


def print_report(console: Console, report: ReconcileReport) -> None:
    table = Table(title="Reconciled: bucket vs catalog vs index")
    table.add_column("tenant")
    table.add_column("objects", justify="right")
    for kind in KINDS:
        table.add_column(kind.replace("_", " "), justify="right")
    for tenant in report.tenants:
        cells = [str(len(getattr(tenant, k))) if k != "orphan_points" else str(tenant.orphan_points) for k in KINDS]
        table.add_row(tenant.tenant, str(tenant.objects), *cells)
    console.print(table)
    console.print("Nothing to repair." if report.clean else "Repairs started or done; see the counts above.")


def command(args: argparse.Namespace, endpoints: dict[str, Any] | None, console: Console) -> int:
    report = run(endpoints, args.tenant)
    print_report(console, report)
    if args.wait and endpoints:
        wait_for(endpoints, [e for t in report.tenants for e in t.executions])
    return 0
