"""Remind the agencies that owe them (actions.obligations) of quarterly returns due within 7 days, and of overdue ones.

Meant for a daily cron job: the Reminder table remembers what has been sent, so each
action × agency × quarter is reminded at most once per stage (due soon, overdue).
"""

import argparse
import datetime
from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from actions import notifications, reminding
from actions.models import Action, Agency, Reminder
from actions.obligations import obligations
from csp.naming import names
from priorities.models import Plan, Quarter

DUE_SOON_DAYS = 7


def reminder_stage(quarter: Quarter, today: datetime.date) -> str | None:
    due = quarter.due
    if today > due:
        return Reminder.Stage.OVERDUE
    if due - datetime.timedelta(days=DUE_SOON_DAYS) <= today:
        return Reminder.Stage.DUE_SOON
    return None


def iso_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date in the form YYYY-MM-DD."
        ) from error


class Command(BaseCommand):
    help = (
        "E-mail each lead agency about its quarterly returns that are due within "
        f"{DUE_SOON_DAYS} days or overdue, in the open quarters of active plans. Safe to run "
        "daily: each action, agency and quarter is reminded once when due soon and once when "
        "overdue, never twice. A return is owed by each active lead agency the plan names, or by "
        "the coordinating agency where it names none; contributions to actions for all "
        "partners are optional and never reminded. A return that is submitted or approved is "
        "not owed. The reminder goes "
        "to the agency's members with an e-mail address; an agency with none is still "
        "recorded as reminded, so it is not retried every day. Each reminder is queued for "
        "the mail worker (manage.py deliver_mail), which retries it if the mail server is "
        "down; one that cannot even be queued is not recorded, so the next run tries again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=iso_date,
            metavar="YYYY-MM-DD",
            help="Act as if today were this date (for testing).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what would be sent; send nothing and record nothing.",
        )

    def handle(self, *args, today=None, dry_run=False, **options):
        if isinstance(today, str):  # call_command(today="…") skips the argument's type
            try:
                today = iso_date(today)
            except argparse.ArgumentTypeError as error:
                raise CommandError(f"--today: {error}") from error
        today = today or timezone.localdate()

        stages = {
            quarter: stage
            for quarter in Quarter.objects.filter(
                is_open=True, plan__state=Plan.State.ACTIVE
            ).select_related("plan")
            if (stage := reminder_stage(quarter, today))
        }
        owed, recipients = self.owed_returns(stages)

        sent = failed = unreachable = 0
        reminded: list[Reminder] = []
        service_names = names() if owed and not dry_run else None
        # Death review updates owed beside the returns (actions.reminding.UPDATES_OWED).
        updates = {quarter: reminding.updates_owed(quarter) for quarter in {q for q, _, _ in owed}}
        try:
            for (quarter, agency, stage), actions in owed.items():
                to = recipients.get(agency.pk, [])
                if dry_run:
                    self.stdout.write(
                        f"Would remind {agency} ({', '.join(to) or 'no one to e-mail'}) "
                        f"of {len(actions)} {stage.replace('_', ' ')} return(s) for "
                        f"{quarter.label}: {', '.join(action.ref for action in actions)}"
                    )
                    continue
                if to:
                    try:
                        notifications.reminder(
                            agency,
                            quarter,
                            actions,
                            stage,
                            death_review_updates=updates[quarter].get(agency.pk, 0),
                            service_names=service_names,
                        )
                    except Exception as error:  # one bad address must not stop the rest
                        failed += 1
                        self.stderr.write(
                            f"Could not e-mail {agency} about {quarter.label}: {error}"
                        )
                        continue
                    sent += 1
                else:
                    unreachable += 1
                reminded += [
                    Reminder(quarter=quarter, action=action, agency=agency, stage=stage)
                    for action in actions
                ]
        finally:
            # Recorded even if a later e-mail blew up, so what went out is not sent again.
            # Conflicts are another run's rows, from a second cron job racing this one.
            Reminder.objects.bulk_create(reminded, ignore_conflicts=True)

        due_soon = sum(1 for key in owed if key[2] == Reminder.Stage.DUE_SOON)
        overdue = len(owed) - due_soon
        returns = sum(len(actions) for actions in owed.values())
        if dry_run:
            self.stdout.write(
                f"Dry run for {today:%d %B %Y}: would send {len(owed)} agency reminder(s) "
                f"({due_soon} due soon, {overdue} overdue) about {returns} return(s)."
            )
            return
        self.stdout.write(
            f"Reminders for {today:%d %B %Y}: {len(owed)} agency reminder(s) ({due_soon} due "
            f"soon, {overdue} overdue) about {returns} return(s): sent {sent} e-mail(s), "
            f"{unreachable} with no one to e-mail, {failed} failed."
        )
        if failed:
            raise CommandError(f"{failed} reminder e-mail(s) could not be sent.")

    def owed_returns(self, stages: dict) -> tuple[dict[tuple, list[Action]], dict]:
        """(quarter, agency, stage) → the actions whose return that agency still owes and
        has not been reminded of at that stage; and agency id → members' e-mail addresses.
        A fixed number of queries, whatever the number of actions, agencies and quarters."""
        if not stages:
            return {}, {}
        quarters = list(stages)
        # Owed and not received, by actions.obligations: contributions are never reminded.
        missing = [row for row in obligations(quarters) if row.missing]
        already = set(
            Reminder.objects.filter(quarter__in=quarters).values_list(
                "quarter_id", "action_id", "agency_id", "stage"
            )
        )
        agency_ids = {row.agency.pk for row in missing}
        recipients = defaultdict(list)
        members = (
            Agency.members.through.objects.filter(agency_id__in=agency_ids, user__is_active=True)
            .exclude(user__email="")
            .order_by("user__email")
            .values_list("agency_id", "user__email")
        )
        for agency_id, email in members:
            recipients[agency_id].append(email)

        owed = defaultdict(list)
        for row in missing:
            stage = stages[row.quarter]
            if (row.quarter.pk, row.action.pk, row.agency.pk, stage) in already:
                continue
            owed[(row.quarter, row.agency, stage)].append(row.action)
        ordered = {}
        for key in sorted(owed, key=lambda key: (key[0].plan_id, key[0].number, key[1].name)):
            ordered[key] = sorted(owed[key], key=lambda a: (a.priority.number, a.number))
        return ordered, recipients
