"""Publishing a year's crime figures: until the manager publishes a year, figures entered
or imported for it are a draft that only the manager sees. Every other page (the crime
statistics for everyone else, the dashboards, the board paper and report) uses the latest
published year (statistics.latest_published). Publishing and withdrawing are recorded in
PublishedYear's history and the audit log."""

import logging

from django.db import transaction

from .models import Area, CrimeFigure, PublishedYear

audit = logging.getLogger("csp.audit")


class PublishingError(Exception):
    pass


@transaction.atomic
def publish(area: Area, year: int, user) -> PublishedYear:
    if not CrimeFigure.objects.filter(area=area, year=year).exists():
        raise PublishingError(
            f"No crime figures are held for {year}, so there is nothing to publish."
        )
    published, created = PublishedYear.objects.get_or_create(
        area=area, year=year, defaults={"published_by": user}
    )
    if not created:
        raise PublishingError(f"{year}’s crime figures are already published.")
    audit.info("crime figures for %s %s published by %s", area.name, year, user.username)
    return published


@transaction.atomic
def withdraw(area: Area, year: int, user) -> None:
    published = PublishedYear.objects.select_for_update().filter(area=area, year=year).first()
    if published is None:
        raise PublishingError(f"{year}’s crime figures are not published.")
    published._change_reason = f"withdrawn by {user.username}"
    published.delete()
    audit.info("crime figures for %s %s withdrawn by %s", area.name, year, user.username)
