"""A client of a running Ragline: uploads through S3, everything else through the REST API —
the same paths a user or the web app takes."""

from __future__ import annotations

import json
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import boto3
import requests

from ragline.models import document_id_for
from ragline_local.devauth import DevAuth

SUPPORTED_SUFFIXES = {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt", ".csv"}


@dataclass
class RaglineClient:
    api_url: str
    aws_endpoint_url: str
    documents_bucket: str
    token: str
    tenant: str

    @classmethod
    def from_endpoints(cls, endpoints: dict[str, Any], tenant: str, user: str = "cli") -> "RaglineClient":
        auth = DevAuth(secret=bytes.fromhex(endpoints["dev_auth_secret"]))
        return cls(endpoints["api_url"], endpoints["aws_endpoint_url"], endpoints["documents_bucket"],
                   auth.issue_token(user, tenant), tenant)

    # --- uploads ---------------------------------------------------------------------------
    def upload(self, path: Path, name: str | None = None) -> tuple[str, str]:
        """Upload one file under the tenant prefix; returns (document id, key)."""
        key = f"{self.tenant}/{name or path.name}"
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3 = boto3.client("s3", endpoint_url=self.aws_endpoint_url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
        s3.upload_file(str(path), self.documents_bucket, key, ExtraArgs={"ContentType": content_type})
        return document_id_for(self.tenant, key), key

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

    def search(self, query: str, **options: Any) -> dict[str, Any]:
        return self._request("GET", "/search", params={"q": query, **options})

    def delete(self, document_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"/documents/{document_id}")

    def wait(self, document_ids: Iterable[str], timeout_s: float = 900, on_update=None) -> dict[str, dict]:
        """Poll until every document is ready or failed (or deleted)."""
        pending, final = set(document_ids), {}
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for document_id in sorted(pending):
                record = self.document(document_id)
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
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return files
