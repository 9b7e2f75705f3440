"""Text extraction: bytes of any supported document -> blocks with page and heading positions,
and the document's descriptor (distinguishing title, date, period, entities, language).

`extract` is the only entry point. It never lets a library exception escape: anything wrong
with the document becomes a DocumentError whose message names the file and says what to do.
"""

from __future__ import annotations

from collections.abc import Callable

from ragline.errors import DocumentError
from ragline.extract.descriptor import describe
from ragline.extract.sniff import SUPPORTED, sniff
from ragline.formats import BY_FILE_TYPE, FORMATS
from ragline.models import ExtractedDocument

__all__ = ["SUPPORTED", "extract"]

# file type -> extractor, from the format registry (ragline.formats): binary formats take the
# bytes, text formats the decoded text; both also take the file name.
_EXTRACTORS: dict[str, Callable[..., ExtractedDocument]] = {fmt.file_type: fmt.load_extractor() for fmt in FORMATS}


def extract(data: bytes, file_name: str, content_type: str | None = None) -> ExtractedDocument:
    """Detect the type from the content (then name and content type) and extract its text."""
    if not data.strip():
        raise DocumentError(f"{file_name} is empty. Upload the file again with its content.")
    try:
        sniffed = sniff(data, file_name, content_type)
    except DocumentError:
        raise
    except Exception as exc:  # e.g. a zip whose directory is damaged: its type cannot be told
        raise DocumentError(
            f"{file_name}: its file type could not be determined ({type(exc).__name__}: {str(exc)[:200]}). "
            "The file may be damaged: export it again and re-upload it."
        ) from exc
    try:
        if BY_FILE_TYPE[sniffed.file_type].binary:
            document = _EXTRACTORS[sniffed.file_type](data, file_name)
        else:
            if not sniffed.text or not sniffed.text.strip():
                raise DocumentError(f"{file_name} is empty (only whitespace). Upload the file again with its content.")
            document = _EXTRACTORS[sniffed.file_type](sniffed.text, file_name)
    except DocumentError:
        raise
    except Exception as exc:  # a parser failing on a malformed file: report it, never crash the step
        raise DocumentError(
            f"{file_name} could not be read as a {BY_FILE_TYPE[sniffed.file_type].label} ({type(exc).__name__}: {str(exc)[:200]}). "
            "The file may be damaged: export it again and re-upload it."
        ) from exc
    if not any(block.text.strip() for block in document.blocks):
        raise DocumentError(
            f"{file_name} contains no text to index. If it is a scan or an image, run OCR on it first."
        )
    document.descriptor = describe(
        document.blocks, file_name, document.title or _first_line(document), document.metadata_date
    )
    document.title = document.descriptor.title
    return document


def _first_line(document: ExtractedDocument) -> str | None:
    """The first line of prose (tables only if there is nothing else), at most 200 characters."""
    blocks = sorted(document.blocks, key=lambda b: b.kind == "table")
    first = next((b.text for b in blocks if b.text.strip()), "")
    line = first.strip().split("\n", 1)[0].strip(" |")
    return line[:200] or None
