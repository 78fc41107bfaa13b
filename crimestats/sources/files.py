"""Reading uploads safely: size limits, what kind of file it is, text that must be UTF-8.

Every problem with a file as a whole is a ``Refused`` with a message for the manager;
nothing here raises anything else for bad input.
"""

import contextlib
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings

# A year of Kent street-level files is about 100 MB as CSV and a fifth of that zipped; a
# full Home Office table is about 40 MB as xlsx. Settings may raise either limit.
MAX_UPLOAD_BYTES = getattr(settings, "CRIME_IMPORT_MAX_UPLOAD_BYTES", 250 * 1024 * 1024)
# What an archive or spreadsheet may unpack to (a 1,000,000-row xlsx sheet is ~500 MB).
MAX_UNPACKED_BYTES = getattr(settings, "CRIME_IMPORT_MAX_UNPACKED_BYTES", 2 * 1024**3)
MAX_ERRORS_KEPT = 100


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
    if upload.size > MAX_UPLOAD_BYTES:
        raise Refused(
            f"{upload.name} is {upload.size / 1024**2:,.0f} MB; files up to "
            f"{MAX_UPLOAD_BYTES / 1024**2:,.0f} MB can be imported here. Load larger files "
            "with the management command (see the README)."
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
    """The archive, once its members are known to unpack to a sensible size."""
    try:
        archive = zipfile.ZipFile(upload.stream)
        unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise Refused(f"{upload.name} is not a readable zip archive ({error}).") from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise Refused(
            f"{upload.name} unpacks to {unpacked / 1024**3:,.1f} GB, more than the "
            f"{MAX_UNPACKED_BYTES / 1024**3:,.1f} GB this import accepts."
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
