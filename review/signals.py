"""Submitting a return answers the follow-ups on figures it changed.

A receiver rather than a call from actions.services: actions (returns) sits below review in
the house, and must not import it. It runs inside the submission's transaction.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from actions.models import QuarterlyReturn

from .services import clear_changed_figures


@receiver(post_save, sender=QuarterlyReturn, dispatch_uid="review_clear_changed_figures")
def figures_resubmitted(sender, instance, created, raw=False, **kwargs):
    if not raw and instance.state == QuarterlyReturn.State.SUBMITTED:
        clear_changed_figures(instance)
