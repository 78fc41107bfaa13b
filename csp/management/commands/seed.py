from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from csp import seed
from deathreviews.services import seed_themes
from demodata import demo_death_reviews, demo_returns


class Command(BaseCommand):
    help = (
        "Load the published 2022/23 Tunbridge Wells plan, agencies, Kent districts and the "
        "strategic assessment's crime table. Safe to run again: it changes nothing the "
        "second time. --demo also creates the demo accounts and demo returns for Q1 to Q3, "
        "leaving Q4 open, and made-up death reviews (development only)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help=(
                "Also create demo accounts, demo returns and made-up death reviews (refused "
                "when DEBUG is off)."
            ),
        )

    def handle(self, *args, demo_data=False, **options):
        if options["demo"] and not settings.DEBUG:
            raise CommandError("Refusing to create demo accounts with DEBUG off.")
        plan = seed.load_plan()
        seed.load_crime_statistics()
        seed_themes(plan.partnership)  # the death reviews' themes, until the manager has some
        self.stdout.write(
            f"Seeded {plan}: {plan.priorities.count()} priorities, "
            f"{sum(p.actions.count() for p in plan.priorities.all())} actions."
        )
        if options["demo"]:
            users = demo_returns.create_demo_accounts()
            self.stdout.write(
                f"Demo accounts: {', '.join(u.username for u in users)} "
                f"(password {demo_returns.DEMO_PASSWORD})."
            )
            returns = demo_returns.create_demo_returns(plan)
            self.stdout.write(
                f"Demo returns: {len(returns)} created for Q1 to Q3 {plan.label}; Q4 open."
            )
            reviews = demo_death_reviews.create_demo_death_reviews(plan)
            self.stdout.write(
                f"Demo death reviews: {len(reviews)} created "
                f"({sum(review.is_published for review in reviews)} published)."
            )
