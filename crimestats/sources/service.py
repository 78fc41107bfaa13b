"""Importing a source file, as the upload page and the management commands both do it:
read → compare (the preview) → apply (on confirmation, or at once from a command)."""

import hashlib
import json
from dataclasses import dataclass

from django.db import DatabaseError, transaction

from ..models import Area, ImportRun, PendingImport, Source
from . import budget, home_office, police_uk
from .files import Refused, Upload, limits
from .loading import Changes, apply, compare, describe_scope, sample_rows
from .parsed import Parsed

PARSERS = {Source.HOME_OFFICE: home_office.parse, Source.POLICE_UK: police_uk.parse}


def digest(uploads: list[Upload]) -> str:
    sha = hashlib.sha256()
    for upload in uploads:
        upload.stream.seek(0)
        for block in iter(lambda stream=upload.stream: stream.read(1024 * 1024), b""):
            sha.update(block)
        upload.stream.seek(0)
    return sha.hexdigest()


@dataclass
class Preview:
    """What the manager sees before confirming; the same dict is kept with the pending
    import so the preview page can be shown again."""

    parsed: Parsed
    changes: Changes | None  # None where the file has row errors
    sha256: str

    def as_dict(self) -> dict:
        return {
            "source": self.parsed.source,
            "file_name": self.parsed.file_name,
            "periods": describe_scope(self.parsed),
            "report": self.parsed.report(),
            "changes": self.changes.summary() if self.changes else None,
            "samples": sample_rows(self.parsed, self.changes) if self.changes else [],
        }


def parse(source: str, uploads: list[Upload], seconds: float) -> Parsed:
    """The files read, in a child process within the memory budget and ``seconds`` (see
    ``budget``): a file that would take the process down only ends the child."""
    areas = list(Area.objects.all())

    def task() -> bytes:
        return json.dumps(PARSERS[source](uploads, areas).to_payload()).encode()

    answer = budget.run(
        task,
        name=", ".join(upload.name for upload in uploads) or "the upload",
        seconds=seconds,
        memory_bytes=limits().memory_bytes,
    )
    return Parsed.from_payload(json.loads(answer))


def read(source: str, uploads: list[Upload], seconds: float | None = None) -> Preview:
    """Read and compare; writes nothing. Raises Refused for a file that cannot be read.
    Reading stops after ``seconds``, by default the page's budget."""
    sha256 = digest(uploads)
    parsed = parse(source, uploads, seconds or limits().page_seconds)
    changes = None if parsed.errors else compare(parsed)
    return Preview(parsed=parsed, changes=changes, sha256=sha256)


def stage(preview: Preview, user) -> PendingImport | None:
    """Keep a readable, changing file for the manager to confirm (their older waiting
    uploads are dropped); a file with errors, or one that changes nothing, is not kept."""
    if preview.changes is None or preview.changes.is_empty:
        return None
    with transaction.atomic():
        PendingImport.objects.filter(uploaded_by=user).delete()
        return PendingImport.objects.create(
            source=preview.parsed.source,
            file_name=preview.parsed.file_name[:500],
            sha256=preview.sha256,
            uploaded_by=user,
            payload=preview.parsed.to_payload(),
            report=preview.as_dict(),
        )


def confirm(pending: PendingImport, user) -> tuple[Changes, ImportRun | None]:
    """Apply a waiting upload. Refused (and nothing changed) if the database refuses it,
    e.g. when the same figures were imported by someone else in the meantime."""
    parsed = Parsed.from_payload(pending.payload)
    try:
        with transaction.atomic():
            result = apply(parsed, user, pending.sha256)
            pending.delete()
    except DatabaseError as error:
        raise Refused(
            f"The import could not be saved and nothing was changed ({error.__class__.__name__}). "
            "Upload the file again to see what it would change now."
        ) from error
    return result


def import_now(source: str, uploads: list[Upload], user=None) -> tuple[Preview, ImportRun | None]:
    """Read and apply at once (the management commands, with their longer time budget).
    Refused on row errors."""
    sha256 = digest(uploads)
    parsed = parse(source, uploads, limits().command_seconds)
    if parsed.errors:
        raise Refused(
            f"{parsed.errors.count} row(s) have errors; nothing was imported:\n  "
            + "\n  ".join(parsed.errors.kept)
        )
    changes, run = apply(parsed, user, sha256)
    return Preview(parsed=parsed, changes=changes, sha256=sha256), run
