"""What the two import commands share: opening the files, reporting, refusing."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crimestats.sources import service
from crimestats.sources.files import Refused, Upload, limits


class ImportCommand(BaseCommand):
    source: str
    what: str

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help=f"The {self.what} to import.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read the files and say what would change, without changing anything.",
        )
        parser.add_argument(
            "--user", help="Username to record as the importer (default: none, 'command')."
        )

    def handle(self, *args, paths, dry_run, user, **options):
        importer = None
        if user:
            importer = get_user_model().objects.filter(username=user).first()
            if importer is None:
                raise CommandError(f"No user called {user}.")
        handles = []
        try:
            uploads = []
            for name in paths:
                path = Path(name)
                if not path.is_file():
                    raise CommandError(f"{path} is not a file.")
                handle = open(path, "rb")  # noqa: SIM115 - closed below
                handles.append(handle)
                uploads.append(Upload(path.name, handle, path.stat().st_size))
            try:
                if dry_run:
                    preview = service.read(self.source, uploads, limits().command_seconds)
                    if preview.changes is None:
                        raise Refused(
                            f"{preview.parsed.errors.count} row(s) have errors:\n  "
                            + "\n  ".join(preview.parsed.errors.kept)
                        )
                    run = None
                else:
                    preview, run = service.import_now(self.source, uploads, importer)
            except Refused as refusal:
                raise CommandError(f"Nothing imported. {refusal}") from refusal
        finally:
            for handle in handles:
                handle.close()
        self.report(preview, run, dry_run)

    def report(self, preview, run, dry_run: bool) -> None:
        parsed, changes = preview.parsed, preview.changes
        verb = "Would change" if dry_run else "Changed"
        self.stdout.write(
            f"{parsed.file_name}: {parsed.rows_read:,} rows read, {parsed.rows_used:,} for the "
            f"county's districts."
        )
        self.stdout.write(
            f"{verb}: {len(changes.created):,} new, {len(changes.updated):,} changed, "
            f"{len(changes.removed):,} removed; {changes.unchanged:,} unchanged."
        )
        if not dry_run and run is None:
            self.stdout.write("Nothing to change: these figures are already held.")
        for reason, count in parsed.skipped.most_common():
            self.stdout.write(f"Not imported: {count:,} rows, {reason}.")
        for name, count in parsed.unknown_areas.most_common():
            self.stdout.write(f"Not imported: {count:,} rows for {name}, not a district held here.")
        for month, count in sorted(parsed.unlocated.items()):
            self.stdout.write(f"Not imported: {count:,} crimes in {month} with no location.")
        for note in parsed.notes:
            self.stdout.write(note)
        for category in changes.unmapped:
            self.stdout.write(
                self.style.WARNING(
                    f"Unmapped: {category['label']} ({category['total']:,}) counts towards no "
                    "crime type; map it on the category mappings page."
                )
            )
