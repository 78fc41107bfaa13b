import django_filters
from django import forms
from django.db.models import OuterRef, Q, Subquery
from django.http import QueryDict

from actions.models import Action, Agency, QuarterlyReturn
from actions.states import RAG_SEVERITY
from csp.text import validate_printable

from .models import Priority
from .quarters import chosen_quarter, plan_quarters

RAG = QuarterlyReturn.RAG


def with_latest_rag(actions, quarter, user):
    """Annotate each action with its worst approved RAG status in the quarter (or None).

    Approved returns only, so the board may see it; and only those the user may see, so a
    partner reads their own agencies' RAG statuses, never another agency's.
    """
    worst = (
        QuarterlyReturn.objects.visible_to(user)
        .approved()
        .filter(action=OuterRef("pk"), quarter=quarter)
        .exclude(rag="")
        .annotate(severity=RAG_SEVERITY)
        .order_by("-severity")
        .values("rag")[:1]
    )
    return actions.annotate(latest_rag=Subquery(worst))


class ActionFilter(django_filters.FilterSet):
    """The action plan's filters: by priority, lead agency, latest approved RAG and text."""

    priority = django_filters.ModelChoiceFilter(
        queryset=Priority.objects.none(), empty_label="All priorities"
    )
    agency = django_filters.ModelChoiceFilter(
        label="Lead agency",
        queryset=Agency.objects.none(),
        empty_label="All agencies",
        method="filter_agency",
    )
    rag = django_filters.ChoiceFilter(
        label="RAG status",
        field_name="latest_rag",
        choices=RAG.choices,
        empty_label="Any RAG status",
    )
    quarter = django_filters.ChoiceFilter(
        label="Quarter for the RAG status",
        choices=(),
        empty_label=None,
        method="filter_quarter",
    )
    q = django_filters.CharFilter(
        label="Search",
        method="filter_text",
        widget=forms.TextInput(attrs={"type": "search"}),
        validators=[validate_printable],
    )

    class Meta:
        model = Action
        fields = ["priority", "agency", "quarter", "rag", "q"]

    def __init__(self, data=None, queryset=None, *, plan=None, user=None, **kwargs):
        # The RAG column shows the reporting quarter (priorities.quarters) unless another
        # is picked: approving one early return moves nothing.
        self.quarters = plan_quarters(plan)
        self.rag_quarter = chosen_quarter(self.quarters, (data or {}).get("quarter"))
        if self.rag_quarter and str(self.rag_quarter.number) != (data or {}).get("quarter"):
            data = data.copy() if data is not None else QueryDict(mutable=True)
            data["quarter"] = str(self.rag_quarter.number)  # so the picker shows it
        queryset = with_latest_rag(queryset, self.rag_quarter, user)
        super().__init__(data, queryset, **kwargs)
        self.filters["quarter"].extra["choices"] = [
            (quarter.number, f"{quarter.label} ({quarter.months})") for quarter in self.quarters
        ]
        if self.rag_quarter:
            self.filters["rag"].label = f"RAG status ({self.rag_quarter.label})"
        self.filters["priority"].queryset = Priority.objects.filter(plan=plan)
        self.filters["agency"].queryset = Agency.objects.filter(
            actions__priority__plan=plan
        ).distinct()

    def filter_agency(self, queryset, name, agency):
        # "All partners" actions are led by every partner, so they belong to every agency.
        return queryset.filter(Q(agencies=agency) | Q(all_partners=True)).distinct()

    def filter_quarter(self, queryset, name, number):
        return queryset  # chooses the RAG column's quarter (__init__), selects no actions

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
