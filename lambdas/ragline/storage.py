"""S3 access for the pipeline: uploaded documents in, derived artifacts out.

Derived objects live in their own bucket, under `{tenant}/{document_id}/{version}/`, so they
never trigger ingestion and a document's artifacts can be dropped with one prefix delete.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from ragline.errors import DocumentError, TransientError
from ragline.settings import Settings

_TRANSIENT_CODES = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"}
_HASH_CHUNK = 1024 * 1024


def artifact_prefix(tenant: str, document_id: str, version: str | None = None) -> str:
    prefix = f"{tenant}/{document_id}/"
    return f"{prefix}{version}/" if version else prefix


@dataclass(frozen=True)
class ObjectVersion:
    """The current version of an uploaded object, as HEAD or LIST report it."""

    key: str
    etag: str | None  # without the quotes S3 puts around it
    version_id: str | None = None
    size: int | None = None


@dataclass
class StoredObject:
    data: bytes
    content_type: str | None
    size: int


class ObjectStorage:
    def __init__(self, s3: Any, documents_bucket: str, artifacts_bucket: str) -> None:
        self.s3 = s3
        self.documents_bucket = documents_bucket
        self.artifacts_bucket = artifacts_bucket

    @classmethod
    def from_settings(cls, settings: Settings) -> "ObjectStorage":
        # botocore retries throttling itself (adaptive mode); what survives is raised as
        # TransientError for the state machine's backoff.
        config = Config(retries={"mode": "adaptive", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
        return cls(boto3.client("s3", config=config), settings.documents_bucket, settings.artifacts_bucket)

    # --- uploaded documents -------------------------------------------------------------
    def read_document(self, key: str, version_id: str | None = None) -> StoredObject:
        kwargs = {"Bucket": self.documents_bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        with _s3_errors(f"s3://{self.documents_bucket}/{key}"):
            response = self.s3.get_object(**kwargs)
            data = response["Body"].read()
        return StoredObject(data, response.get("ContentType"), len(data))

    def document_sha256(self, key: str, version_id: str | None = None) -> tuple[str, int]:
        """Content hash of an upload, streamed so large files never sit in memory twice."""
        kwargs = {"Bucket": self.documents_bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        digest, size = hashlib.sha256(), 0
        with _s3_errors(f"s3://{self.documents_bucket}/{key}"):
            body = self.s3.get_object(**kwargs)["Body"]
            for block in iter(lambda: body.read(_HASH_CHUNK), b""):
                digest.update(block)
                size += len(block)
        return digest.hexdigest(), size

    def document_exists(self, key: str) -> bool:
        # Inside _s3_errors so throttling and timeouts reach the delete workflow as TransientError
        # (which its Retry handles) rather than as a raw ClientError that fails it.
        with _s3_errors(f"s3://{self.documents_bucket}/{key}"):
            try:
                self.s3.head_object(Bucket=self.documents_bucket, Key=key)
            except ClientError as error:
                if error.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                    return False
                raise
        return True

    def current_version(self, key: str) -> ObjectVersion | None:
        """The object's current version (None when it is gone: deleted, or a delete marker)."""
        with _s3_errors(f"s3://{self.documents_bucket}/{key}"):
            try:
                head = self.s3.head_object(Bucket=self.documents_bucket, Key=key)
            except ClientError as error:
                if error.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                    return None
                raise
        version_id = head.get("VersionId")
        return ObjectVersion(key, _etag(head.get("ETag")), None if version_id == "null" else version_id,
                             head.get("ContentLength"))  # fmt: skip

    def tenants(self) -> list[str]:
        """The top-level folders of the documents bucket (one per tenant)."""
        paginator = self.s3.get_paginator("list_objects_v2")
        found: list[str] = []
        with _s3_errors(f"s3://{self.documents_bucket}/"):
            for page in paginator.paginate(Bucket=self.documents_bucket, Delimiter="/"):
                found += [p["Prefix"].rstrip("/") for p in page.get("CommonPrefixes", [])]
        return found

    def list_documents(self, tenant: str) -> list[ObjectVersion]:
        """The current objects under a tenant's folder (ETag from the listing; no version ids)."""
        paginator = self.s3.get_paginator("list_objects_v2")
        found: list[ObjectVersion] = []
        with _s3_errors(f"s3://{self.documents_bucket}/{tenant}/"):
            for page in paginator.paginate(Bucket=self.documents_bucket, Prefix=f"{tenant}/"):
                found += [ObjectVersion(o["Key"], _etag(o.get("ETag")), None, o.get("Size"))
                          for o in page.get("Contents", [])]  # fmt: skip
        return found

    # --- derived artifacts --------------------------------------------------------------
    def put_artifact(self, key: str, body: bytes, content_type: str) -> None:
        with _s3_errors(f"s3://{self.artifacts_bucket}/{key}"):
            self.s3.put_object(Bucket=self.artifacts_bucket, Key=key, Body=body, ContentType=content_type)

    def put_json(self, key: str, value: Any) -> None:
        self.put_artifact(key, json.dumps(value, ensure_ascii=False).encode(), "application/json")

    def put_jsonl(self, key: str, rows: Iterable[Any]) -> None:
        body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        self.put_artifact(key, body.encode(), "application/x-ndjson")

    def read_artifact(self, key: str) -> bytes:
        with _s3_errors(f"s3://{self.artifacts_bucket}/{key}"):
            return self.s3.get_object(Bucket=self.artifacts_bucket, Key=key)["Body"].read()

    def read_json(self, key: str) -> Any:
        return json.loads(self.read_artifact(key))

    def read_jsonl(self, key: str) -> list[Any]:
        return [json.loads(line) for line in self.read_artifact(key).decode().splitlines() if line]

    def delete_artifacts(self, prefix: str, keep_prefix: str | None = None) -> int:
        """Delete every artifact under prefix (except those under keep_prefix)."""
        deleted = 0
        paginator = self.s3.get_paginator("list_objects_v2")
        with _s3_errors(f"s3://{self.artifacts_bucket}/{prefix}"):
            for page in paginator.paginate(Bucket=self.artifacts_bucket, Prefix=prefix):
                keys = [
                    {"Key": obj["Key"]}
                    for obj in page.get("Contents", [])
                    if not (keep_prefix and obj["Key"].startswith(keep_prefix))
                ]
                if keys:
                    self.s3.delete_objects(Bucket=self.artifacts_bucket, Delete={"Objects": keys, "Quiet": True})
                    deleted += len(keys)
        return deleted


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


class _s3_errors:
    """Translate S3 failures: missing objects are the document's problem, the rest transient."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            return False
        if isinstance(exc, (ConnectionError, ReadTimeoutError)):
            raise TransientError(f"S3 did not answer for {self.where}: {exc}") from exc
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404", "NoSuchVersion"}:
                raise DocumentError(
                    f"{self.where} no longer exists (deleted or replaced before it was processed)"
                ) from exc
            if code in _TRANSIENT_CODES or code.startswith("5"):
                raise TransientError(f"S3 error {code} for {self.where}: {exc}") from exc
        return False
