"""The local S3 buckets on disk, so a `ragline dev` restart finds the objects it had.

moto keeps S3 in memory; the catalog (SQLite) and the index (qdrant-edge) live on disk under
RAGLINE_HOME. Without the objects a restart left the three disagreeing: documents listed and
searchable whose object was gone, and DELETE answering 202 while doing nothing.

Write-through, per key: after every change moto makes to a key of an attached bucket (put,
multipart completion, delete, delete marker, metadata), that key's versions are written to
`<folder>/<sha256(key)>/` — one blob per version and an `index.json` listing the versions in
order with their ids, ETags, metadata and times (written last, by rename, so a crash leaves
the previous complete state). At start `restore` puts them back into moto with the same
version ids and ETags (the catalog records both) and without S3 events, so nothing is ingested
twice. Only buckets attached by the local runtime are mirrored: tests' in-process `mock_aws`
buckets are not.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from moto.s3.models import FakeDeleteMarker, FakeKey, S3Backend, s3_backends

_folders: dict[str, Path] = {}  # bucket name -> its folder
_lock = threading.RLock()
_restoring = threading.local()
_installed = False


def attach(bucket: str, folder: Path) -> None:
    """Mirror `bucket` to `folder` from now on."""
    folder.mkdir(parents=True, exist_ok=True)
    with _lock:
        _folders[bucket] = folder


def detach(bucket: str) -> None:
    with _lock:
        _folders.pop(bucket, None)


def restore(bucket: str, folder: Path, account_id: str) -> int:
    """Put the mirrored objects of `bucket` back into moto (no events); returns how many keys."""
    backend: S3Backend = s3_backends[account_id]["aws"]
    target = backend.get_bucket(bucket)
    restored = 0
    _restoring.active = True
    try:
        for index_file in sorted(folder.glob("*/index.json")):
            try:
                state = json.loads(index_file.read_text())
            except (OSError, ValueError):
                continue  # a damaged entry is skipped, never fatal to the start
            versions = _rebuild(backend, bucket, state, index_file.parent)
            if versions:
                target.keys.setlist(state["key"], versions)
                restored += 1
    finally:
        _restoring.active = False
    return restored


def _rebuild(backend: S3Backend, bucket: str, state: dict[str, Any], folder: Path) -> list[Any]:
    versions: list[Any] = []
    for entry in state["versions"]:
        modified = datetime.fromisoformat(entry["last_modified"])
        if entry.get("delete_marker"):
            if not versions:
                continue
            marker = FakeDeleteMarker(key=versions[-1])
            marker._version_id = entry["version_id"]
            marker.last_modified = modified
            versions.append(marker)
            continue
        blob = folder / entry["blob"]
        if not blob.exists():
            continue
        key = FakeKey(
            name=state["key"], value=blob.read_bytes(), account_id=backend.account_id,
            region_name=backend.region_name, etag=entry["etag"].strip('"'), is_versioned=entry["versioned"],
            version_id=entry["version_id"], bucket_name=bucket,
        )
        key.set_metadata(dict(entry["metadata"]), replace=True)
        key.last_modified = modified
        versions.append(key)
    return versions


def _key_folder(root: Path, key_name: str) -> Path:
    return root / hashlib.sha256(key_name.encode()).hexdigest()


def mirror_key(backend: S3Backend, bucket_name: str, key_name: str) -> None:
    """Write the current versions of one key to disk (or remove it when none are left)."""
    root = _folders.get(bucket_name)
    if root is None or getattr(_restoring, "active", False):
        return
    with _lock:
        bucket = backend.get_bucket(bucket_name)
        versions = list(bucket.keys.getlist(key_name, []))
        folder = _key_folder(root, key_name)
        if not versions:
            shutil.rmtree(folder, ignore_errors=True)
            return
        folder.mkdir(parents=True, exist_ok=True)
        entries = [_entry(version, folder) for version in versions]
        _write_atomically(folder / "index.json", json.dumps({"key": key_name, "versions": entries}).encode())
        wanted = {entry["blob"] for entry in entries if "blob" in entry} | {"index.json"}
        for stale in folder.iterdir():
            if stale.name not in wanted:
                stale.unlink(missing_ok=True)


def _entry(version: Any, folder: Path) -> dict[str, Any]:
    if isinstance(version, FakeDeleteMarker):
        return {"delete_marker": True, "version_id": version.version_id,
                "last_modified": version.last_modified.isoformat()}
    blob = f"{hashlib.sha256(f'{version.version_id}/{version.etag}'.encode()).hexdigest()[:32]}.bin"
    if not (folder / blob).exists():
        _write_atomically(folder / blob, version.value)
    return {"version_id": version.version_id, "versioned": bool(version._is_versioned), "etag": version.etag,
            "metadata": dict(version.metadata), "last_modified": version.last_modified.isoformat(), "blob": blob}


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


# --- the seam: every moto S3 write path that changes a key ---------------------------------
def _after(original: Callable, key_of: Callable[..., tuple[str, str]]) -> Callable:
    def wrapper(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        bucket_name, key_name = key_of(*args, **kwargs)
        if bucket_name in _folders:
            mirror_key(self, bucket_name, key_name)
        return result

    return wrapper


def _bucket_and_key(bucket_name: str, key_name: str, *_: Any, **__: Any) -> tuple[str, str]:
    return bucket_name, key_name


def _set_metadata(original: Callable) -> Callable:
    def set_metadata(self: FakeKey, metadata: Any, replace: bool = False) -> None:
        original(self, metadata, replace)
        if self.bucket_name in _folders and not getattr(_restoring, "active", False):
            backend = s3_backends[self.account_id]["aws"]
            bucket = backend.buckets.get(self.bucket_name)
            if bucket is not None and any(v is self for v in bucket.keys.getlist(self.name, [])):
                mirror_key(backend, self.bucket_name, self.name)

    return set_metadata


def install() -> None:
    global _installed
    if _installed:
        return
    S3Backend.put_object = _after(S3Backend.put_object, _bucket_and_key)
    S3Backend.delete_object = _after(S3Backend.delete_object, _bucket_and_key)
    S3Backend._set_delete_marker = _after(S3Backend._set_delete_marker, _bucket_and_key)
    FakeKey.set_metadata = _set_metadata(FakeKey.set_metadata)
    _installed = True
