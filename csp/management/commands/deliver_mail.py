"""The mail worker: delivers queued e-mail every few seconds until stopped."""

import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from post_office.lockfile import FileLock, FileLocked
from post_office.settings import get_lock_file_name

from csp.outbox import deliver_queued


class Command(BaseCommand):
    help = (
        "Deliver the queued e-mail (notices, reminders, password resets) through the mail "
        "server, then look again every few seconds until stopped (SIGTERM or Ctrl-C ends it "
        "after the e-mail in hand). An e-mail that fails is tried again later, a few times, "
        "then shown as failed on the Outgoing e-mail page. --once delivers what is due and "
        "stops, for cron. One worker at a time: a second one on this machine skips its turn."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Deliver what is due now, then stop."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            metavar="SECONDS",
            help="How long to wait between looks at the queue (default 5).",
        )

    def handle(self, *args, once=False, interval=5.0, **options):
        stopping = []
        if not once:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stopping.append(True))
            self.stdout.write(f"Delivering queued e-mail every {interval:g} s; stop with Ctrl-C.")
        while not stopping:
            self.deliver()
            if once:
                break
            close_old_connections()  # as after a request: drop a broken or expired one
            # Sleep in short steps, so a stop request is not kept waiting.
            deadline = time.monotonic() + interval
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.5, interval))

    def deliver(self):
        try:
            with FileLock(get_lock_file_name()):
                delivery = deliver_queued()
        except FileLocked:
            return
        if delivery.sent or delivery.failed or delivery.requeued:
            self.stdout.write(
                f"E-mail: {delivery.sent} sent, {delivery.requeued} to try again later, "
                f"{delivery.failed} failed."
            )
