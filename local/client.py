"""A client of a running Ragline: uploads through S3, everything else through the REST API —
the same paths a user or the web app takes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import boto3
import requests

from ragline.formats import SUPPORTED_SUFFIXES, content_type_for
from ragline.models import document_id_for
from ragline_local.devauth import DevAuth



@dataclass
class RaglineClient:
    api_url: str
    aws_endpoint_url: str
    documents_bucket: str
    token: str
    tenant: str
    ingest_state_machine: str | None = None
    # document id -> S3 version id of this client's last upload, so `wait` follows that
    # version's ingest run rather than the catalog row an earlier version left behind.
    _uploads: dict[str, str] = field(default_factory=dict, repr=False)
    _execution_versions: dict[str, str | None] = field(default_factory=dict, repr=False)

    @classmethod
    def from_endpoints(cls, endpoints: dict[str, Any], tenant: str, user: str = "cli",
                       groups: tuple[str, ...] = ("admin",)) -> "RaglineClient":
        """A client signed in to the local stack. The CLI is the operator of its own machine
        (it writes to S3 directly), so its token carries the admin group unless told otherwise."""
        auth = DevAuth(secret=bytes.fromhex(endpoints["dev_auth_secret"]))
        return cls(endpoints["api_url"], endpoints["aws_endpoint_url"], endpoints["documents_bucket"],
                   auth.issue_token(user, tenant, groups), tenant, (endpoints.get("state_machines") or {}).get("ingest"))

    def _aws(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.aws_endpoint_url, region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")

    # --- uploads ---------------------------------------------------------------------------
    def upload(self, path: Path, name: str | None = None) -> tuple[str, str]:
        """Upload one file under the tenant prefix; returns (document id, key)."""
        key = f"{self.tenant}/{name or path.name}"
        content_type = content_type_for(path.name)
        s3 = self._aws("s3")
        s3.upload_file(str(path), self.documents_bucket, key, ExtraArgs={"ContentType": content_type})
        document_id = document_id_for(self.tenant, key)
        version = s3.head_object(Bucket=self.documents_bucket, Key=key).get("VersionId")
        if version and version != "null":
            self._uploads[document_id] = version
        return document_id, key

    # --- API -------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, self.api_url + path, headers={"Authorization": f"Bearer {self.token}"},
                                    timeout=120, **kwargs)
        if response.status_code >= 400:
            raise ApiError(response.status_code, _error_message(response))
        return response.json() if response.content else None

    def document(self, document_id: str) -> dict[str, Any] | None:
        try:
            return self._request("GET", f"/documents/{document_id}")
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def documents(self, status: str | None = None) -> list[dict[str, Any]]:
        documents, cursor = [], None
        while True:
            params = {"limit": 100, **({"status": status} if status else {}), **({"cursor": cursor} if cursor else {})}
            page = self._request("GET", "/documents", params=params)
            documents += page["documents"]
            cursor = page.get("next_cursor")
            if not cursor:
                return documents

    def ask(self, question: str, **options: Any) -> dict[str, Any]:
        return self._request("POST", "/query", json={"question": question, **options})

    def stream(self, path: str, body: dict[str, Any]) -> Iterator["ServerEvent"]:
        """POST ``body`` asking for server-sent events; yields them as they arrive. Closing
        the iterator closes the connection (the server then stops generating)."""
        response = requests.post(self.api_url + path, json=body, stream=True, timeout=(10, 120),
                                 headers={"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"})
        try:
            if response.status_code >= 400:
                raise ApiError(response.status_code, _error_message(response))
            yield from iter_sse(response.iter_lines(chunk_size=None, decode_unicode=True))
        finally:
            response.close()

    def ask_stream(self, question: str, **options: Any) -> Iterator["ServerEvent"]:
        return self.stream("/query", {"question": question, **options})

    # --- conversations -----------------------------------------------------------------------
    def start_conversation(self, title: str | None = None) -> dict[str, Any]:
        return self._request("POST", "/conversations", json={"title": title} if title else {})

    def conversations(self) -> list[dict[str, Any]]:
        return self._request("GET", "/conversations", params={"limit": 100})["conversations"]

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        return self._request("GET", f"/conversations/{conversation_id}")

    def follow_up(self, conversation_id: str, question: str, **options: Any) -> dict[str, Any]:
        return self._request("POST", f"/conversations/{conversation_id}/messages", json={"question": question, **options})

    def follow_up_stream(self, conversation_id: str, question: str, **options: Any) -> Iterator["ServerEvent"]:
        return self.stream(f"/conversations/{conversation_id}/messages", {"question": question, **options})

    def search(self, query: str, **options: Any) -> dict[str, Any]:
        return self._request("GET", "/search", params={"q": query, **options})

    def delete(self, document_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"/documents/{document_id}")

    def wait(self, document_ids: Iterable[str], timeout_s: float = 900, on_update=None) -> dict[str, dict]:
        """Poll until every document is ready or failed (or deleted).

        A document this client uploaded counts as done only once the ingest run of the uploaded
        version has finished: a re-upload of a ready, failed or deleted document otherwise
        "finishes" at once with the previous version's row."""
        pending, final = set(document_ids), {}
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            finished = self._finished_uploads(pending)
            for document_id in sorted(pending):
                record = self.document(document_id)
                if record and document_id in self._uploads and self.ingest_state_machine:
                    if self._uploads[document_id] not in finished:
                        if on_update and record["status"] == "processing":
                            on_update(document_id, record)
                        continue
                if on_update and record:
                    on_update(document_id, record)
                if record and record["status"] in {"ready", "failed", "deleted"}:
                    final[document_id] = record
                    pending.discard(document_id)
            if pending:
                time.sleep(0.5)
        for document_id in pending:
            final[document_id] = self.document(document_id) or {"id": document_id, "status": "missing"}
        return final


    def _finished_uploads(self, document_ids: set[str]) -> set[str]:
        """S3 version ids of the uploads among `document_ids` whose ingest execution has ended
        (version ids are unique within a bucket, and unlike keys never need decoding)."""
        wanted = {self._uploads[d] for d in document_ids if d in self._uploads}
        if not wanted or not self.ingest_state_machine:
            return set()
        sfn, finished = self._aws("stepfunctions"), set()
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=self.ingest_state_machine):
            for execution in page["executions"]:
                arn = execution["executionArn"]
                if arn not in self._execution_versions:  # an execution's input never changes
                    detail = json.loads(sfn.describe_execution(executionArn=arn)["input"]).get("detail") or {}
                    self._execution_versions[arn] = (detail.get("object") or {}).get("version-id")
                if execution["status"] != "RUNNING" and self._execution_versions[arn] in wanted:
                    finished.add(self._execution_versions[arn])
        return finished


@dataclass(frozen=True)
class ServerEvent:
    """One server-sent event: its name (start, token, citations, done, error) and JSON data."""

    event: str
    data: dict[str, Any]


def iter_sse(lines: Iterable[str]) -> Iterator[ServerEvent]:
    """Parse a text/event-stream (``event:`` and ``data:`` lines, a blank line ends an event)."""
    name, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield ServerEvent(name, json.loads("\n".join(data)))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield ServerEvent(name, json.loads("\n".join(data)))


class InputError(Exception):
    """A problem with what the user asked for (paths, names): the message says what to do."""


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        field = f" (field {error['field']})" if error.get("field") else ""
        return f"{error.get('message')}{field}"
    return json.dumps(body)[:500]


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the supported files inside folders (sorted, recursive)."""
    return [path for path, _ in plan_uploads(paths).files]


@dataclass
class UploadPlan:
    files: list[tuple[Path, str]]  # (file, name under the tenant prefix)
    skipped: list[Path]  # files inside folders whose type Ragline does not read


def plan_uploads(paths: Iterable[Path]) -> UploadPlan:
    """What `ragline ingest PATH...` uploads: files as given (named by their file name), the
    supported files inside folders named by their path relative to that folder (so a/x.md and
    b/x.md stay two documents), each file once. Raises FileNotFoundError naming a missing path."""
    plan, seen, names = UploadPlan([], []), set(), {}
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                    plan.skipped.append(file)
                    continue
                _add(plan, seen, names, file, file.relative_to(path).as_posix())
        else:
            _add(plan, seen, names, path, path.name)
    return plan


def _add(plan: UploadPlan, seen: set[Path], names: dict[str, Path], file: Path, name: str) -> None:
    resolved = file.resolve()
    if resolved in seen:  # the same file named twice, or inside two of the given folders
        return
    if name in names:
        raise InputError(f"{file} and {names[name]} would both be uploaded as {name!r}; "
                         "ingest them in separate commands or rename one")
    seen.add(resolved)
    names[name] = file
    plan.files.append((file, name))
