"""What an evidence file is, from its content: never from its name or the type the browser
claims. PDF, Word (.docx), Excel (.xlsx), PNG and JPEG only.

A .docx or .xlsx is a zip: it is opened with the crime imports' zip checks (sizes and
compression ratios from the archive's own directory, before anything is unpacked), then its
[Content_Types].xml must name the main part of a Word document or an Excel workbook (not a
macro-enabled one) and that part must be there.
"""

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import storages

from crimestats.sources.files import UNREADABLE, Refused, Upload, megabytes, open_zip

from .models import Evidence

Kind = Evidence.Kind

SIGNATURES = (
    (b"%PDF-", Kind.PDF),
    (b"\x89PNG\r\n\x1a\n", Kind.PNG),
    (b"\xff\xd8\xff", Kind.JPEG),
)
# The main part each Office kind must declare in [Content_Types].xml, and where it lives.
OFFICE_PARTS = {
    Kind.DOCX: (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "word/document.xml",
    ),
    Kind.XLSX: (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "xl/workbook.xml",
    ),
}
CONTENT_TYPES_MAX_BYTES = 64 * 1024  # a real one is a few kilobytes
EXTENSIONS = {
    Kind.PDF: "pdf",
    Kind.DOCX: "docx",
    Kind.XLSX: "xlsx",
    Kind.PNG: "png",
    Kind.JPEG: "jpg",
}
MEDIA_TYPES = {
    Kind.PDF: "application/pdf",
    Kind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Kind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Kind.PNG: "image/png",
    Kind.JPEG: "image/jpeg",
}
ALLOWED = "a PDF, a Word document (.docx), an Excel spreadsheet (.xlsx), or a PNG or JPEG image"


def check_size(name: str, size: int) -> None:
    if size == 0:
        raise Refused(f"{name} is empty. Choose the file again.")
    largest = settings.EVIDENCE_MAX_BYTES
    if size > largest:
        raise Refused(f"{name} is {megabytes(size)}. A file may be up to {megabytes(largest)}.")


def identify(upload: Upload) -> str:
    """The file's kind, from its first bytes (and for Office files, its parts)."""
    check_size(upload.name, upload.size)
    upload.stream.seek(0)
    start = upload.stream.read(16)
    upload.stream.seek(0)
    for signature, kind in SIGNATURES:
        if start.startswith(signature):
            return kind
    if start.startswith(b"PK\x03\x04"):
        return _office_kind(upload)
    raise Refused(f"{upload.name} is not {ALLOWED}, whatever its name says.")


def _office_kind(upload: Upload) -> str:
    not_office = Refused(
        f"{upload.name} is a zip archive but not a Word document (.docx) or Excel "
        "spreadsheet (.xlsx). Macro-enabled files (.docm, .xlsm) are not accepted."
    )
    archive = open_zip(upload)
    try:
        names = set(archive.namelist())
        info = archive.getinfo("[Content_Types].xml") if "[Content_Types].xml" in names else None
        if info is None or info.file_size > CONTENT_TYPES_MAX_BYTES:
            raise not_office
        content_types = archive.read(info).decode("utf-8", "replace")
    except UNREADABLE as error:
        raise Refused(f"{upload.name} is damaged and cannot be read ({error}).") from error
    finally:
        upload.stream.seek(0)
    for kind, (media_type, part) in OFFICE_PARTS.items():
        if f'ContentType="{media_type}"' in content_types and part in names:
            return kind
    raise not_office


def safe_name(original: str, kind: str) -> str:
    """The name to offer on download: the original's stem in plain letters, digits, spaces,
    dots, hyphens and underscores, with the extension of what the file really is."""
    stem = PurePath(original.replace("\\", "/")).stem
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9 ._-]+", "_", stem)
    stem = re.sub(r"\s+", " ", stem).strip(" ._")[:150] or "evidence"
    return f"{stem}.{EXTENSIONS[kind]}"


def evidence_storage():
    return storages["evidence"]


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file once checked and kept: what an evidence row records of it."""

    name: str  # the safe name offered on download
    kind: str
    size: int
    sha256: str
    stored_name: str


def store(uploaded, folder: str) -> StoredFile:
    """Check an uploaded file by its content (Refused, with a message for the user, when it
    is not evidence) and keep it in the evidence store under a name of our own in `folder`:
    nothing the user typed reaches a path in the storage. Every evidence upload (a return's,
    a death review update's) goes through here."""
    kind = identify(Upload(name=uploaded.name, stream=uploaded, size=uploaded.size))
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    stored_name = evidence_storage().save(
        f"{folder}/{uuid.uuid4().hex}.{EXTENSIONS[kind]}", uploaded
    )
    return StoredFile(
        name=safe_name(uploaded.name, kind),
        kind=kind,
        size=uploaded.size,
        sha256=digest.hexdigest(),
        stored_name=stored_name,
    )
