import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demodata import generate


class Command(BaseCommand):
    help = (
        "Add generated history at N times the seed's size, for benchmarks: N x 71 actions "
        "over Tunbridge Wells's closed plans for 2021/22 back to 2002/03 (several copies of "
        "the published plan's actions per year beyond scale 20), a return from every lead "
        "agency for every action and quarter in every state, N x 5 users, and crime figures "
        "for Kent's 12 districts over up to 20 years. Running it again at the same scale "
        "adds nothing; a higher scale adds the difference. The seeded 2022/23 plan and the "
        "published crime figures are never changed. For speed rows are bulk inserted, so "
        "generated rows have no audit-trail (simple-history) records. Run `seed` first. "
        "Never on a production database: refused with DEBUG off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, required=True, help="Times the seed's size: 1, 10, 100…"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off (a throwaway benchmark database, never production).",
        )

    def handle(self, *args, scale: int, force: bool = False, **options):
        # Generated plans, users and returns in a live database would be read as the
        # partnership's own: refuse unless this is plainly a development database.
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to generate history with DEBUG off. It adds made-up plans, users "
                "and returns; use --force only on a throwaway database, such as a benchmark's."
            )
        started = time.monotonic()
        try:
            created = generate.generate(scale, progress=self.stdout.write)
        except generate.HistoryError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"History at scale {scale}: created {created} in {time.monotonic() - started:.1f} s."
        )
