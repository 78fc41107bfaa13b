"""A metric's target in words (actions.targets), for the pages that list metrics."""

from django import template

from actions import targets

register = template.Library()


@register.filter
def target_summary(metric):
    return targets.target_summary(metric)
