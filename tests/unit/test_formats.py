"""The file-format registry is the one list every layer reads: a format without an extractor,
or a layer that accepts a different set of files, fails here."""

from __future__ import annotations

import json
from typing import get_args

import pytest
from ragline.api.documents import SUPPORTED_TYPES, sanitize_file_name
from ragline.api.schemas import UploadRequest
from ragline.extract import extract
from ragline.extract.sniff import _BY_CONTENT_TYPE, _BY_EXTENSION, sniff
from ragline.formats import FORMATS, SUPPORTED_SUFFIXES, UPLOAD_TYPES, content_type_for, render_web_manifest
from ragline.models import FileType
from ragline.query.schemas import FILE_TYPE_ALIASES, normalise_file_type
from ragline.wiring import REPO_ROOT
from ragline_local.client import SUPPORTED_SUFFIXES as CLI_SUFFIXES

WEB_MANIFEST = REPO_ROOT / "frontend" / "lib" / "formats.json"


def test_every_file_type_has_exactly_one_format_and_an_extractor() -> None:
    assert sorted(fmt.file_type for fmt in FORMATS) == sorted(get_args(FileType))
    for fmt in FORMATS:
        assert callable(fmt.load_extractor()), fmt.extractor
        assert fmt.suffixes and fmt.mime_types, fmt.file_type
        assert all(suffix.startswith(".") and suffix == suffix.lower() for suffix in fmt.suffixes)


def test_suffixes_belong_to_one_format() -> None:
    suffixes = [suffix for fmt in FORMATS for suffix in fmt.suffixes]
    assert len(suffixes) == len(set(suffixes))


def test_sniffing_hints_come_from_the_registry() -> None:
    for fmt in FORMATS:
        for suffix in fmt.suffixes:
            assert _BY_EXTENSION[suffix] == fmt.file_type
        for mime in fmt.mime_types:
            assert _BY_CONTENT_TYPE[mime] == fmt.file_type
    assert set(_BY_EXTENSION) == SUPPORTED_SUFFIXES


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
def test_every_suffix_can_be_uploaded(suffix: str) -> None:
    name = f"report{suffix.upper()}"
    assert sanitize_file_name(name) == f"report{suffix}"
    assert content_type_for(name) == UPLOAD_TYPES[suffix]
    UploadRequest(file_name=name)  # the documented pattern accepts it too
    import re

    pattern = UploadRequest.model_json_schema()["properties"]["file_name"]["pattern"]
    assert re.search(pattern, name), (pattern, name)


def test_tsv_extracts_and_uploads() -> None:
    data = b"name\tdays\nalice\t20\nbob\t25\n"
    assert sniff(data, "leave.tsv").file_type == "csv"
    document = extract(data, "leave.tsv")
    assert document.file_type == "csv" and "alice" in " ".join(b.text for b in document.blocks)
    assert sanitize_file_name("leave.tsv") == "leave.tsv"
    assert SUPPORTED_TYPES[".tsv"] == "text/tab-separated-values"


def test_the_cli_and_the_web_app_read_the_same_list() -> None:
    assert CLI_SUFFIXES == SUPPORTED_SUFFIXES
    assert WEB_MANIFEST.read_text() == render_web_manifest(), (
        "frontend/lib/formats.json is out of date: run `python -m ragline.formats > frontend/lib/formats.json`"
    )
    assert set(json.loads(WEB_MANIFEST.read_text())["acceptedSuffixes"]) == SUPPORTED_SUFFIXES


def test_file_type_filters_accept_every_suffix_and_name() -> None:
    for fmt in FORMATS:
        assert normalise_file_type(fmt.file_type) == fmt.file_type
        for suffix in fmt.suffixes:
            assert normalise_file_type(suffix) == fmt.file_type
    assert FILE_TYPE_ALIASES["plain"] == "text"
