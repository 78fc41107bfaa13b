import django_filters
from django import forms
from django.db.models import Q

from actions.models import Action, Agency

from .models import Priority


class ActionFilter(django_filters.FilterSet):
    """The action plan's filters: by priority, by lead agency, and free text."""

    priority = django_filters.ModelChoiceFilter(
        queryset=Priority.objects.none(), empty_label="All priorities"
    )
    agency = django_filters.ModelChoiceFilter(
        label="Lead agency",
        queryset=Agency.objects.none(),
        empty_label="All agencies",
        method="filter_agency",
    )
    q = django_filters.CharFilter(
        label="Search", method="filter_text", widget=forms.TextInput(attrs={"type": "search"})
    )

    class Meta:
        model = Action
        fields = ["priority", "agency", "q"]

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["priority"].queryset = Priority.objects.filter(plan=plan)
        self.filters["agency"].queryset = Agency.objects.filter(
            actions__priority__plan=plan
        ).distinct()

    def filter_agency(self, queryset, name, agency):
        # "All partners" actions are led by every partner, so they belong to every agency.
        return queryset.filter(Q(agencies=agency) | Q(all_partners=True)).distinct()

    def filter_text(self, queryset, name, text):
        text = text.strip()[:200]
        if not text:
            return queryset
        return queryset.filter(
            Q(description__icontains=text)
            | Q(measure__icontains=text)
            | Q(outcome__icontains=text)
            | Q(lead_agencies__icontains=text)
        )
