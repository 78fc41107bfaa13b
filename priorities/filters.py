import django_filters
from django import forms
from django.db.models import Case, IntegerField, OuterRef, Q, Subquery, Value, When

from actions.models import Action, Agency, QuarterlyReturn
from csp.text import validate_printable

from .models import Priority, Quarter

RAG = QuarterlyReturn.RAG
# Where an action's lead agencies report different RAG statuses, the action shows the worst.
RAG_SEVERITY = Case(
    When(rag=RAG.RED, then=Value(4)),
    When(rag=RAG.AMBER, then=Value(3)),
    When(rag=RAG.GREEN, then=Value(2)),
    When(rag=RAG.COMPLETE, then=Value(1)),
    default=Value(0),
    output_field=IntegerField(),
)


def latest_reported_quarter(plan) -> Quarter | None:
    """The newest quarter of the plan with an approved return: the plan's current picture."""
    return (
        Quarter.objects.filter(plan=plan, returns__state=QuarterlyReturn.State.APPROVED)
        .select_related("plan")
        .order_by("-number")
        .first()
    )


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
    q = django_filters.CharFilter(
        label="Search",
        method="filter_text",
        widget=forms.TextInput(attrs={"type": "search"}),
        validators=[validate_printable],
    )

    class Meta:
        model = Action
        fields = ["priority", "agency", "rag", "q"]

    def __init__(self, data=None, queryset=None, *, plan=None, user=None, **kwargs):
        self.rag_quarter = latest_reported_quarter(plan)
        queryset = with_latest_rag(queryset, self.rag_quarter, user)
        super().__init__(data, queryset, **kwargs)
        if self.rag_quarter:
            self.filters["rag"].label = f"RAG status ({self.rag_quarter.label})"
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
