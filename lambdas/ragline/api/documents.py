"""Uploads and deletions through S3: presigned PUT URLs, and deleting the uploaded object.

Why presigned URLs: the file never passes through API Gateway (10 MB payload limit, 29 s) or
the Lambda; the browser PUTs it straight to S3 under ``{tenant}/{file_name}``, and the S3
event starts ingestion. The Content-Type is part of the signature, so the upload must send
exactly the header returned with the URL.

Why deletion only removes the object: the ``Object Deleted`` event runs the delete state
machine, which removes points, derived objects and marks the catalog row — one path for
deletions from the API, the console or the CLI.

File names are sanitised because they become S3 keys and are shown back to users: directory
parts are dropped (no ``../`` games, no writing outside the tenant's folder), control and
shell-hostile characters become ``_``, and letters of every script (Vietnamese included) stay.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from ragline.errors import RaglineError
from ragline.formats import UPLOAD_TYPES, content_type_for
from ragline.settings import Settings

UPLOAD_URL_EXPIRES_S = 900
MAX_FILE_NAME_CHARS = 200

# extension -> Content-Type, from the format registry; the pipeline detects the type again
# from the bytes.
SUPPORTED_TYPES: dict[str, str] = UPLOAD_TYPES

_UNSAFE = re.compile(r"[^\w .()+,@=&\[\]-]", re.UNICODE)
_REPEATS = re.compile(r"([ _])[ _]+")


class InvalidFileNameError(RaglineError, ValueError):
    """The file name cannot become a document (empty after sanitising, unsupported type)."""


def sanitize_file_name(name: str) -> str:
    """A safe, readable file name: the last path component, NFC, no control characters,
    unsafe characters replaced, at most 200 characters with the extension kept."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _UNSAFE.sub("_", name)
    name = _REPEATS.sub(r"\1", name).strip(" ._")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = stem.rstrip(" ._")
    extension = extension.lower()
    if not stem or f".{extension}" not in SUPPORTED_TYPES:
        supported = ", ".join(sorted(SUPPORTED_TYPES))
        if not stem:
            raise InvalidFileNameError("The file name is empty once unsafe characters are removed; rename the file.")
        raise InvalidFileNameError(
            f"Ragline cannot read {'.' + extension if extension else 'files without an extension'}: "
            f"upload one of {supported}."
        )
    room = MAX_FILE_NAME_CHARS - len(extension) - 1
    return f"{stem[:room].rstrip(' ._')}.{extension}"


@dataclass(frozen=True)
class UploadTicket:
    key: str
    url: str
    content_type: str
    expires_in: int


class DocumentUploads:
    """Presigned uploads into, and deletions from, the documents bucket."""

    def __init__(self, s3: Any, bucket: str, expires_in: int = UPLOAD_URL_EXPIRES_S) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.expires_in = expires_in

    @classmethod
    def from_settings(cls, settings: Settings) -> "DocumentUploads":
        import boto3
        from botocore.config import Config

        # SigV4 everywhere (required by newer regions and KMS-encrypted buckets); boto3 reads
        # AWS_ENDPOINT_URL, so the same code signs for the local S3.
        client = boto3.client("s3", config=Config(signature_version="s3v4", retries={"max_attempts": 3}))
        return cls(client, settings.documents_bucket)

    def presign_upload(
        self, tenant: str, file_name: str, content_type: str | None = None, collection: str | None = None
    ) -> UploadTicket:
        """A URL to PUT the file to ``{tenant}/{collection}/{file_name}`` (no collection: the
        default collection, ``{tenant}/{file_name}``)."""
        key = f"{tenant}/{collection}/{file_name}" if collection else f"{tenant}/{file_name}"
        content_type = content_type or content_type_for(file_name)
        url = self.s3.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=self.expires_in,
            HttpMethod="PUT",
        )
        return UploadTicket(key=key, url=url, content_type=content_type, expires_in=self.expires_in)

    def delete(self, key: str) -> None:
        """Delete the uploaded object (a delete marker in a versioned bucket); idempotent."""
        self.s3.delete_object(Bucket=self.bucket, Key=key)


_uploads: dict[int, tuple[Any, DocumentUploads]] = {}
_uploads_lock = threading.Lock()


def uploads_for(services: Any) -> DocumentUploads:
    """One `DocumentUploads` (and S3 client) per `Services` instance: reused by a warm
    container, rebuilt after `ragline.services.reset()`."""
    with _uploads_lock:
        entry = _uploads.get(id(services))
        if entry is None or entry[0] is not services:
            _uploads.clear()
            entry = (services, DocumentUploads.from_settings(services.settings))
            _uploads[id(services)] = entry
        return entry[1]
