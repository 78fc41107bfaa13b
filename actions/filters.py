import django_filters

from priorities.models import Priority, Quarter

from .models import Agency, QuarterlyReturn


class ReviewFilter(django_filters.FilterSet):
    priority = django_filters.ModelChoiceFilter(
        field_name="action__priority",
        queryset=Priority.objects.none(),
        empty_label="All priorities",
    )
    agency = django_filters.ModelChoiceFilter(
        queryset=Agency.objects.none(), empty_label="All agencies"
    )
    quarter = django_filters.ModelChoiceFilter(
        queryset=Quarter.objects.none(), empty_label="All quarters"
    )

    class Meta:
        model = QuarterlyReturn
        fields = ["priority", "agency", "quarter"]

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["priority"].queryset = Priority.objects.filter(plan=plan)
        self.filters["agency"].queryset = Agency.objects.active().order_by("name")
        self.filters["quarter"].queryset = Quarter.objects.filter(plan=plan).select_related("plan")
