"""Reading uploads safely: size limits, what kind of file it is, text that must be UTF-8.

Every problem with a file as a whole is a ``Refused`` with a message for the manager;
nothing here raises anything else for bad input.
"""

import contextlib
import csv
import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

MAX_ERRORS_KEPT = 100
# A part this small may compress as well as it likes (the ratio is checked above it).
RATIO_CHECKED_ABOVE = 1024**2


@dataclass(frozen=True)
class Limits:
    """What an upload may hold and what reading it may cost, from settings (csp/settings.py
    has the values and why; tests and the benchmark change them there)."""

    upload_bytes: int
    unpacked_bytes: int
    part_bytes: int
    ratio: int
    parts: int
    rows: int
    columns: int
    memory_bytes: int
    page_seconds: float
    command_seconds: float


def limits() -> Limits:
    return Limits(
        upload_bytes=settings.CRIME_IMPORT_MAX_UPLOAD_BYTES,
        unpacked_bytes=settings.CRIME_IMPORT_MAX_UNPACKED_BYTES,
        part_bytes=settings.CRIME_IMPORT_MAX_PART_BYTES,
        ratio=settings.CRIME_IMPORT_MAX_RATIO,
        parts=settings.CRIME_IMPORT_MAX_PARTS,
        rows=settings.CRIME_IMPORT_MAX_ROWS,
        columns=settings.CRIME_IMPORT_MAX_COLUMNS,
        memory_bytes=settings.CRIME_IMPORT_MEMORY_BYTES,
        page_seconds=settings.CRIME_IMPORT_PAGE_SECONDS,
        command_seconds=settings.CRIME_IMPORT_COMMAND_SECONDS,
    )


def megabytes(size: int) -> str:
    return f"{size / 1024**2:,.0f} MB"


# What a damaged or unusual archive raises while a part of it is unpacked.
UNREADABLE = (
    zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError,
)  # fmt: skip


class Refused(Exception):
    """The file cannot be imported at all; the message says why, in the manager's words."""


@dataclass
class Upload:
    """One uploaded (or command-line) file: its name and a binary stream."""

    name: str
    stream: BinaryIO
    size: int


def check_size(upload: Upload) -> None:
    if upload.size == 0:
        raise Refused(f"{upload.name} is empty.")
    largest = limits().upload_bytes
    if upload.size > largest:
        raise Refused(
            f"{upload.name} is {megabytes(upload.size)}; files up to {megabytes(largest)} can "
            "be imported here. Load larger files with the management command (see the README)."
        )


def head(upload: Upload, size: int = 8192) -> bytes:
    upload.stream.seek(0)
    data = upload.stream.read(size)
    upload.stream.seek(0)
    return data


def kind_of(upload: Upload) -> str:
    """ "zip" (xlsx, ods and zip archives), "xls" (old Excel), "text" or "binary"."""
    start = head(upload)
    if start.startswith(b"PK\x03\x04"):
        return "zip"
    if start.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if b"\x00" in start:
        return "binary"
    return "text"


def open_zip(upload: Upload) -> zipfile.ZipFile:
    """The archive, once its parts are known, from its own directory and before any is
    unpacked, to unpack to a sensible size each and in all, without the compression of a
    zip bomb. (Python's zipfile then stops each part at the size it declared.)"""
    try:
        archive = zipfile.ZipFile(upload.stream)
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise Refused(f"{upload.name} is not a readable zip archive ({error}).") from error
    bounds = limits()
    if len(parts) > bounds.parts:
        raise Refused(
            f"{upload.name} holds {len(parts):,} files; an archive may hold {bounds.parts:,}."
        )
    for part in parts:
        if part.file_size > bounds.part_bytes:
            raise Refused(
                f"{upload.name}: {part.filename} unpacks to {megabytes(part.file_size)}, more "
                f"than the {megabytes(bounds.part_bytes)} one part may. Nothing was read."
            )
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_CHECKED_ABOVE and ratio > bounds.ratio:
            raise Refused(
                f"{upload.name}: {part.filename} unpacks to {ratio:,.0f} times its packed size; "
                f"spreadsheets and data downloads pack to no more than {bounds.ratio} times, "
                "so this looks like a zip bomb. Nothing was read."
            )
    unpacked = sum(part.file_size for part in parts)
    if unpacked > bounds.unpacked_bytes:
        raise Refused(
            f"{upload.name} unpacks to {megabytes(unpacked)}, more than the "
            f"{megabytes(bounds.unpacked_bytes)} this import accepts. Nothing was read."
        )
    return archive


def csv_rows(stream: BinaryIO, name: str) -> Iterator[list[str]]:
    """Rows of a UTF-8 CSV (a byte-order mark is allowed); anything else is refused."""
    start = stream.read(8192)
    stream.seek(0)
    if b"\x00" in start:
        raise Refused(f"{name} is not a CSV file: it holds binary data.")
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text)
    try:
        yield from reader
    except UnicodeDecodeError as error:
        raise Refused(
            f"{name} is not UTF-8 text (line {bad_byte_line(stream)} has a character UTF-8 "
            "does not allow). Download the file again from the source, or save it as CSV UTF-8."
        ) from error
    except csv.Error as error:
        raise Refused(
            f"{name} is not a readable CSV file (line {reader.line_num}: {error})."
        ) from error
    finally:
        # Leave the underlying stream open for its owner (an upload, or a zip member).
        with contextlib.suppress(ValueError):
            text.detach()


def bad_byte_line(stream: BinaryIO) -> int | str:
    """The line of the first byte that is not UTF-8 (the decoder reads ahead in blocks, so
    the reader's own line count cannot say)."""
    try:
        stream.seek(0)
        data = stream.read()
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return data.count(b"\n", 0, error.start) + 1
    except (OSError, ValueError):
        pass
    return "?"


class Errors:
    """Row-level errors: all are counted, the first ``MAX_ERRORS_KEPT`` are kept to show."""

    def __init__(self):
        self.kept: list[str] = []
        self.count = 0

    def add(self, where: str, message: str) -> None:
        self.count += 1
        if len(self.kept) < MAX_ERRORS_KEPT:
            self.kept.append(f"{where}: {message}")

    def __bool__(self) -> bool:
        return self.count > 0
