"""Decide a document's type from its bytes first, its name and content type second.

Content wins over names: a PDF uploaded as "report.txt" is read as a PDF. The extension or
content type only settles what bytes cannot (Markdown vs plain text, for instance).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import charset_normalizer
import regex

from ragline.errors import DocumentError
from ragline.formats import BY_FILE_TYPE, BY_MIME_TYPE, BY_SUFFIX, FORMATS, describe_supported
from ragline.models import FileType

SUPPORTED = describe_supported()

# From the format registry (ragline.formats): names and content types only *hint* a type.
_BY_EXTENSION: dict[str, FileType] = {suffix: fmt.file_type for suffix, fmt in BY_SUFFIX.items()}
_BY_CONTENT_TYPE: dict[str, FileType] = {mime: fmt.file_type for mime, fmt in BY_MIME_TYPE.items()}
_TEXT_TYPES: frozenset[str] = frozenset(fmt.file_type for fmt in FORMATS if not fmt.binary)
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Microsoft Office file (.doc, .xls or .ppt)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
]
_BOMS: list[tuple[bytes, str]] = [
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
]
_META_CHARSET = regex.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", regex.IGNORECASE)
_HTML_START = regex.compile(
    r"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", regex.IGNORECASE | regex.DOTALL
)
_HTML_TAG = regex.compile(r"<(?:p|div|body|head|h[1-6]|table|ul|ol|li|br|span|a\s)[\s>/]", regex.IGNORECASE)
_MARKDOWN = regex.compile(r"^(?:#{1,6}\s+\S|```|~~~|\s{0,3}(?:[-*+]|\d+[.)])\s+\S|>\s)|\]\([^)\s]+\)", regex.MULTILINE)
SAMPLE = 64 * 1024
_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Sniffed:
    file_type: FileType
    text: str | None = None  # decoded text for the text-based formats


def sniff(data: bytes, file_name: str, content_type: str | None = None) -> Sniffed:
    """The document's type (and text, for text formats); DocumentError if unsupported."""
    head = data[:1024]
    if b"%PDF-" in head:
        return Sniffed("pdf")
    if data.startswith(b"PK\x03\x04"):
        return Sniffed(_zip_type(data, file_name))
    described = next((what for magic, what in _SIGNATURES if data.startswith(magic)), None)
    if described:
        raise _unsupported(file_name, described)
    hinted = _hinted_type(file_name, content_type)
    text = decode_text(data)
    if text is None:
        if hinted is not None and BY_FILE_TYPE[hinted].binary:
            raise DocumentError(
                f"{file_name} is named as a {BY_FILE_TYPE[hinted].label} but its "
                "contents are not one: the file is corrupt or mislabelled. Export it again and re-upload it."
            )
        raise _unsupported(file_name, "binary data of an unknown type")
    return Sniffed(_text_type(text, hinted), text)


def decode_text(data: bytes) -> str | None:
    """Decode text in any encoding (BOM, declared HTML charset, UTF-8, detected); None if binary."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    sample = data[:SAMPLE]
    if b"\x00" not in sample:  # NULs are valid UTF-8, but in text they mean UTF-16/32 without a BOM
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    declared = _META_CHARSET.search(sample)
    if declared:
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    if charset_normalizer.is_binary(sample):
        return None
    best = charset_normalizer.from_bytes(sample).best()
    return None if best is None else data.decode(best.encoding, errors="replace")


def _hinted_type(file_name: str, content_type: str | None) -> FileType | None:
    by_name = _BY_EXTENSION.get(PurePosixPath(file_name).suffix.lower())
    by_type = _BY_CONTENT_TYPE.get((content_type or "").split(";")[0].strip().lower())
    return by_name or by_type


def _zip_type(data: bytes, file_name: str) -> FileType:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise DocumentError(
            f"{file_name} is a damaged ZIP/Office file and cannot be opened; export it again and re-upload it."
        ) from exc
    if "word/document.xml" in names:
        return "docx"
    if any(n.startswith("xl/") for n in names):
        raise _unsupported(file_name, "an Excel workbook", "Save the sheet as CSV and upload that.")
    if any(n.startswith("ppt/") for n in names):
        raise _unsupported(file_name, "a PowerPoint presentation", "Save it as PDF and upload that.")
    raise _unsupported(file_name, "a ZIP archive", "Upload the documents inside it one by one.")


def _text_type(text: str, hinted: FileType | None) -> FileType:
    if _HTML_START.match(text):
        return "html"
    if hinted in _TEXT_TYPES:
        return hinted
    sample = text[:SAMPLE]
    if len(_HTML_TAG.findall(sample)) >= 2:
        return "html"
    if csv_delimiter(text, min_lines=3):  # two lines with a comma each are more likely prose
        return "csv"
    if _MARKDOWN.search(sample):
        return "markdown"
    return "text"


def csv_delimiter(text: str, min_lines: int = 2) -> str | None:
    """The delimiter that splits each of the first lines into the same number (two or more) of
    fields, preferring more fields. (csv.Sniffer gives up on small files and on quoted fields
    that contain another candidate delimiter.)"""
    lines = [line for line in text[:SAMPLE].splitlines()[:50] if line.strip()]
    if len(text) > SAMPLE:
        lines = lines[:-1]  # the sample may end mid-line
    if len(lines) < min_lines:
        return None
    best, best_width = None, 1
    for delimiter in _DELIMITERS:
        widths = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        if len(widths) == 1 and (width := widths.pop()) > best_width:
            best, best_width = delimiter, width
    return best


def _unsupported(file_name: str, what: str, advice: str = "") -> DocumentError:
    message = f"{file_name} is {what}, which Ragline cannot index. Supported types: {SUPPORTED}."
    return DocumentError(f"{message} {advice}".strip())
