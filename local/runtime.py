"""Start the local AWS (moto) and create in it what the CDK app creates on AWS.

Everything is rendered from `ragline.wiring`, the definitions CDK renders too: the same ASL
files, handler names, function settings and EventBridge patterns.
"""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import shutil
import socket
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from ragline_local import persistence, seams
from ragline_local.concurrency import limit_malloc_arenas
from ragline import services as ragline_services
from ragline.wiring import FUNCTIONS, STATE_MACHINES, render_definition, substitutions

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_NAME = "ragline-local-role"


class StackError(Exception):
    """The local stack cannot start; the message says why and what to do."""


def _ensure_port_free(host: str, port: int, what: str, option: str) -> None:
    # Checked before anything starts: moto's server waits forever on a busy port, and the
    # gateway's bind error would come after the home folder was already wiped. SO_REUSEADDR,
    # as both servers bind: without it the connections a just-stopped stack left in TIME_WAIT
    # made the port look busy for a minute.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            raise StackError(f"port {port} ({what}) on {host} is not available: {error.strerror}. "
                             f"Stop what uses it, or pick another port with {option} PORT.") from None


def running_stack(home: Path) -> dict[str, Any] | None:
    """The endpoints of a live stack that uses `home`, if any (a stale dev.json is ignored)."""
    try:
        endpoints = json.loads((home / "dev.json").read_text())
        requests.get(endpoints["api_url"] + "/health", timeout=2).raise_for_status()
        return endpoints
    except (OSError, ValueError, KeyError, TypeError, requests.RequestException):
        return None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def local_reserved_concurrency(cpus: int | None = None) -> dict[str, int]:
    """Reserved concurrency of the local functions, the local counterpart of CDK's
    (`embed_reserved_concurrency` on AWS). CPU-bound work gets as many slots as there are
    cores: more at once only makes each call slower, until calls time out (20 long PDFs at
    once livelocked the local model: 80 embedding calls sharing 2 cores). Extraction gets one:
    PDFium is process-serial here (extract/pdf.py), so a second one would only wait inside
    its own timeout. The others (catalog bookkeeping) are unbounded, as on AWS."""
    cores = max(1, cpus or os.cpu_count() or 1)
    return {"extract": 1, "chunk": cores, "embed_and_index": cores}


@dataclass
class LocalConfig:
    """Where the local stack lives and how its handlers are configured."""

    home: Path = Path(".ragline")
    host: str = "127.0.0.1"
    aws_port: int = 4566
    embedder: str = "hash"  # hash | local | openai
    documents_bucket: str = "ragline-documents"
    artifacts_bucket: str = "ragline-artifacts"
    # Start from empty stores. By default everything is kept: catalog, index, and the buckets'
    # objects (mirrored to disk, persistence.py), so the three agree after a restart.
    reset: bool = False
    reserved_concurrency: dict[str, int] = field(default_factory=local_reserved_concurrency)
    max_running_executions: int = seams.EXECUTIONS.max_running
    # Handler logs (Powertools JSON on stdout): warnings for `ragline dev`; commands that draw
    # progress bars raise it so log lines do not tear them (failures show in their tables).
    log_level: str = os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING")

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    def settings_env(self) -> dict[str, str]:
        """RAGLINE_* settings for the in-process handlers (the Lambda environment on AWS)."""
        env = {
            "RAGLINE_DOCUMENTS_BUCKET": self.documents_bucket,
            "RAGLINE_ARTIFACTS_BUCKET": self.artifacts_bucket,
            "RAGLINE_CATALOG_URL": f"sqlite:///{(self.home / 'catalog.db').resolve()}",
            "RAGLINE_QDRANT_ENGINE": "edge",
            "RAGLINE_QDRANT_PATH": str((self.home / "qdrant").resolve()),
            "RAGLINE_EMBEDDER": self.embedder,
            "RAGLINE_ENVIRONMENT": "local",
            "POWERTOOLS_SERVICE_NAME": "ragline",
            "POWERTOOLS_METRICS_NAMESPACE": "Ragline",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": self.log_level,
        }
        return env

    def aws_env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "MOTO_PORT": str(self.aws_port),  # moto's Step Functions engine calls Lambda here
        }


class LocalAws:
    """A moto server with Ragline's buckets, queue, functions, state machines and rules."""

    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self.server: ThreadedMotoServer | None = None
        self.state_machine_arns: dict[str, str] = {}
        self.dead_letter_queue_url = ""

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.config.endpoint_url, region_name=REGION)

    def start(self) -> "LocalAws":
        config = self.config
        if config.reset and config.home.exists():
            for entry in config.home.iterdir():  # all but the lock file the stack holds
                if entry.name != HomeLock.FILE_NAME:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        config.home.mkdir(parents=True, exist_ok=True)
        seams.EXECUTIONS.max_running = config.max_running_executions
        limit_malloc_arenas()
        os.environ.update(config.aws_env())
        for noisy in ("werkzeug", "moto"):  # request lines and the engine's failure dumps
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        self.server = ThreadedMotoServer(ip_address=config.host, port=config.aws_port, verbose=False)
        self.server.start()
        # moto's backends are process-wide: start each stack from an empty account.
        requests.post(f"{config.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()
        seams.install(config.endpoint_url, REGION)
        self._create_resources()
        os.environ.update(config.settings_env())
        os.environ["RAGLINE_DEAD_LETTER_QUEUE_URL"] = self.dead_letter_queue_url
        os.environ["RAGLINE_INGEST_STATE_MACHINE_ARN"] = self.state_machine_arns["ingest"]  # the reconciler's
        ragline_services.reset()
        from ragline.catalog import migrate

        migrate(config.settings_env()["RAGLINE_CATALOG_URL"])
        return self

    def stop(self) -> None:
        if self.server is None:  # never started, or already stopped
            return
        from ragline.services import get_services

        index = get_services().__dict__.get("index")  # only if this stack opened one
        if index is not None and hasattr(index, "close"):
            index.close()
        for bucket in (self.config.documents_bucket, self.config.artifacts_bucket):
            persistence.detach(bucket)
        self.server.stop()
        self.server = None

    @property
    def objects_folder(self) -> Path:
        return self.config.home / "s3"

    def ensure_resources(self) -> None:
        """Recreate the resources if moto's process-wide state was reset under us (an in-process
        `mock_aws` in the same test session resets every backend when it exits)."""
        try:
            self.client("s3").head_bucket(Bucket=self.config.documents_bucket)
        except self.client("s3").exceptions.ClientError:
            self._create_resources()

    # --- resources, rendered from ragline.wiring ------------------------------------------
    def _create_resources(self) -> None:
        config = self.config
        requests.post(
            f"{config.endpoint_url}/moto-api/config",
            json={"stepfunctions": {"execute_state_machine": True}},
            timeout=10,
        ).raise_for_status()
        s3 = self.client("s3")
        for bucket in (config.documents_bucket, config.artifacts_bucket):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=config.documents_bucket, VersioningConfiguration={"Status": "Enabled"})
        # The objects of the last run, back before events are switched on (restored silently).
        for bucket in (config.documents_bucket, config.artifacts_bucket):
            persistence.restore(bucket, self.objects_folder / bucket, ACCOUNT)
            persistence.attach(bucket, self.objects_folder / bucket)
        s3.put_bucket_notification_configuration(
            Bucket=config.documents_bucket,
            NotificationConfiguration={"EventBridgeConfiguration": {}},
        )
        s3.put_bucket_cors(
            Bucket=config.documents_bucket,
            CORSConfiguration={
                "CORSRules": [{"AllowedMethods": ["PUT", "POST", "GET"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"]}]
            },
        )
        self.dead_letter_queue_url = self.client("sqs").create_queue(QueueName="ragline-dead-letters")["QueueUrl"]
        function_arns = self._create_functions()
        subs = substitutions(function_arns, self.dead_letter_queue_url)
        sfn, events = self.client("stepfunctions"), self.client("events")
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
        for spec in STATE_MACHINES.values():
            arn = sfn.create_state_machine(
                name=f"ragline-{spec.name}", definition=render_definition(spec, subs), roleArn=role_arn
            )["stateMachineArn"]
            self.state_machine_arns[spec.name] = arn
            rule = f"ragline-{spec.name}-on-s3"
            events.put_rule(Name=rule, EventPattern=json.dumps(spec.event_pattern(config.documents_bucket)))
            events.put_targets(Rule=rule, Targets=[{"Id": spec.name, "Arn": arn, "RoleArn": role_arn}])

    def _create_functions(self) -> dict[str, str]:
        iam = self.client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
        role_arn = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        lam = self.client("lambda")
        arns = {}
        for spec in FUNCTIONS.values():
            arns[spec.name] = lam.create_function(
                FunctionName=f"ragline-{spec.name.replace('_', '-')}",
                Runtime="python3.12",
                Role=role_arn,
                Handler=spec.handler,
                Code={"ZipFile": _placeholder_zip()},  # code runs in-process (seams.py)
                Description=spec.description,
                Timeout=spec.timeout_s,
                MemorySize=spec.memory_mb,
                Environment={"Variables": self.config.settings_env()},
            )["FunctionArn"]
            reserved = self.config.reserved_concurrency.get(spec.name)
            if reserved:  # read by the Lambda seam (seams.py), as the Lambda service reads it
                lam.put_function_concurrency(FunctionName=arns[spec.name], ReservedConcurrentExecutions=reserved)
        return arns


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Ragline runs this function's handler in-process; see local/seams.py\n")
    return buffer.getvalue()


class DevStack:
    """The whole local system: the local AWS plus the gateway (API, web app, sign-in)."""

    def __init__(self, config: LocalConfig, gateway_port: int = 8787) -> None:
        self.config = config
        self.gateway_port = gateway_port
        self.aws = LocalAws(config)
        self.gateway = None
        self._home_lock: HomeLock | None = None

    def start(self) -> "DevStack":
        from ragline_local.devauth import DevAuth
        from ragline_local.gateway import Gateway

        config = self.config
        running = running_stack(config.home)
        if running:  # starting would wipe (or share) that stack's catalog and index
            raise StackError(f"a local stack (pid {running.get('pid')}) is already running from {config.home} "
                             f"at {running.get('web_url')}; use it, stop it, or set RAGLINE_HOME to another folder.")
        _ensure_port_free(config.host, config.aws_port, "local AWS", "--aws-port")
        _ensure_port_free(config.host, self.gateway_port, "web app + API", "--port")
        try:
            self._home_lock = HomeLock(config.home).acquire()
            self.aws.start()
            auth = DevAuth.persistent(config.home / "dev-auth.secret")  # issued tokens outlive a restart
            self.gateway = Gateway(config.host, self.gateway_port, auth=auth).start()
            self.endpoints_file.write_text(json.dumps(self.endpoints(), indent=2))
            reconcile_at_start(self)
        except BaseException:  # Ctrl-C or a failure half-way: leave no server or dev.json behind
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        self.aws.stop()
        if self._home_lock is not None:
            self.endpoints_file.unlink(missing_ok=True)
            self._home_lock.release()
            self._home_lock = None

    @property
    def endpoints_file(self) -> Path:
        return self.config.home / "dev.json"

    def endpoints(self) -> dict[str, Any]:
        """What other processes (`ragline ingest`, tests) need to reach this stack."""
        return {
            "pid": os.getpid(),
            "web_url": self.gateway.base_url + "/",
            "api_url": self.gateway.api_url,
            "aws_endpoint_url": self.config.endpoint_url,
            "documents_bucket": self.config.documents_bucket,
            "dev_auth_secret": self.gateway.auth.secret.hex(),
            "state_machines": self.aws.state_machine_arns,
            "dead_letter_queue_url": self.aws.dead_letter_queue_url,
        }

    def __enter__(self) -> "DevStack":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class HomeLock:
    """One stack per RAGLINE_HOME at a time (an exclusive `flock`, released by the OS if the
    process dies): two stacks would share one SQLite catalog, index folder and object mirror."""

    FILE_NAME = ".lock"

    def __init__(self, home: Path) -> None:
        self.path = home / self.FILE_NAME
        self._file: Any = None

    def acquire(self) -> "HomeLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            raise StackError(f"another Ragline process (pid {owner}) is already running from {self.path.parent}; "
                             "wait for it to finish, stop it, or set RAGLINE_HOME to another folder.") from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def reconcile_at_start(stack: DevStack) -> None:
    """Bring bucket, catalog and index back into agreement after a restart: a document left
    `processing` by a stop has no execution any more, and an upload may have landed while no
    stack ran. The reconciler (`ragline reconcile`, issue 9 item 4, `local/commands/reconcile.py`)
    does that at every start. A failure is a warning: the stack is still usable, and
    `ragline reconcile` can be run again by hand."""
    from ragline_local.commands import reconcile  # imports this module: imported when used

    try:
        reconcile.run(stack.endpoints())
    except Exception as error:  # noqa: BLE001 - reported, never fatal to the start
        logging.getLogger("ragline").warning("reconcile at start failed: %s", error)
