"""The manager's forms for editing a plan: priorities, actions and metrics. An active
plan's forms ask for the reason (priorities.editing.edit_mode), kept in the history."""

from django import forms

from csp.choices import ModelChoiceField, ModelMultipleChoiceField
from csp.text import PrintableCharField
from priorities.editing import FREE, REASON_LENGTH, WITH_REASON
from priorities.models import Priority

from .models import Agency, Metric


def _text(label, max_length, required=True, rows=None, help_text="", missing=""):
    return PrintableCharField(
        label=label if required else f"{label} (optional)",
        max_length=max_length,
        required=required,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput,
        error_messages={
            "required": missing or f"Enter the {label.lower()}",
            "max_length": f"The {label.lower()} must be {max_length:,} characters or fewer",
        },
    )


class ReasonMixin:
    """Adds a required reason when the plan is active."""

    def add_reason(self, mode: str, label="Reason for the change"):
        if mode == WITH_REASON:
            self.fields["reason"] = _text(
                label,
                REASON_LENGTH,
                help_text="The plan is active: the reason is kept in the history.",
                missing="Enter the reason for the change",
            )

    def reason(self) -> str:
        return self.cleaned_data.get("reason", "")


class ReasonForm(ReasonMixin, forms.Form):
    """Remove, withdraw or retire: the reason alone (required in an active plan)."""

    def __init__(self, *args, mode: str, required: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_reason(WITH_REASON if required else mode, "Reason")


class PriorityForm(forms.Form):
    number = forms.IntegerField(
        label="Number",
        min_value=1,
        max_value=99,
        help_text="Its place in the plan. The other priorities and every ref renumber.",
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-3"}),
        error_messages={
            "required": "Enter the priority's number",
            "invalid": "Enter the number as a whole number, like 3",
            "min_value": "The number must be 1 or more",
            "max_value": "The number must be 99 or less",
        },
    )
    title = _text("Title", 300, help_text="As in the action plan's heading.")
    short_title = _text(
        "Assessment list name",
        200,
        help_text='As in the strategic assessment\'s "Recommended priorities" list.',
    )
    rationale = _text("Rationale", 10_000, required=False, rows=5)
    recommendation = _text("Recommendation", 10_000, required=False, rows=3)

    @classmethod
    def initial_for(cls, priority: Priority) -> dict:
        return {name: getattr(priority, name) for name in cls.base_fields}


class AgencySelect(forms.Select):
    """An agency list the autocomplete enhances: each option carries the agency's other
    names, so typing an alias suggests it (static/js/agency-autocomplete.js)."""

    aliases: dict[int, str] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        pk = getattr(value, "value", value)
        if pk in self.aliases:
            option["attrs"]["data-aliases"] = self.aliases[pk]
        return option


class AgencySelectMultiple(AgencySelect, forms.SelectMultiple):
    pass


class ActionForm(ReasonMixin, forms.Form):
    priority = ModelChoiceField(
        label="Priority",
        queryset=Priority.objects.none(),
        empty_label=None,
        error_messages={
            "required": "Select the priority",
            "invalid_choice": "Select a priority from the list",
        },
    )
    description = _text("Action", 5_000, rows=4, missing="Enter the action")
    lead_agencies = _text(
        "Lead agencies as printed",
        1_000,
        help_text='Exactly as the plan prints them, like "Kent Police and KFRS".',
        missing="Enter the lead agencies as the plan prints them",
    )
    agencies = ModelMultipleChoiceField(
        label="Agencies that report (optional)",
        help_text="Type a name or another name of an agency to find it. Left empty, the "
        "agencies the printed names stand for are chosen.",
        queryset=Agency.objects.none(),
        required=False,
        widget=AgencySelectMultiple(attrs={"data-module": "app-agency-autocomplete"}),
        error_messages={"invalid_choice": "Select agencies from the list"},
    )
    all_partners = forms.BooleanField(
        label="Other partners may contribute a return",
        help_text='As "All partners" or "… and partners" in the plan.',
        required=False,
    )
    accountable_agency = ModelChoiceField(
        label="Accountable agency when none is named (optional)",
        help_text="Owes the return if the action names no lead agency. Left empty, the "
        "coordinating agency does.",
        queryset=Agency.objects.none(),
        required=False,
        widget=AgencySelect(attrs={"data-module": "app-agency-autocomplete"}),
        error_messages={"invalid_choice": "Select an agency from the list"},
    )
    measure = _text("Measure", 5_000, rows=3)
    outcome = _text("Outcome", 5_000, required=False, rows=3)

    def __init__(self, *args, plan, mode: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priority"].queryset = Priority.objects.filter(plan=plan).order_by("number")
        self.fields["priority"].label_from_instance = lambda p: f"{p.number}. {p.title}"
        if mode != FREE:  # an active plan's refs stay as partners know them
            self.fields["priority"].disabled = True
        agencies = list(Agency.objects.active().order_by("name"))
        aliases = {a.pk: "|".join([a.short_name, *a.aliases]) for a in agencies}
        for name in ("agencies", "accountable_agency"):
            field = self.fields[name]
            field.queryset = Agency.objects.active().order_by("name")
            field.widget.aliases = aliases
        self.add_reason(mode)

    @classmethod
    def initial_for(cls, action) -> dict:
        initial = {name: getattr(action, name) for name in cls.base_fields if name != "agencies"}
        initial["agencies"] = list(action.agencies.all())
        return initial


class MetricForm(ReasonMixin, forms.Form):
    name = _text("Name", 200, help_text="What partners report each quarter, like “Referrals”.")
    kind = forms.ChoiceField(
        label="Kind",
        choices=Metric.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the kind of figure",
            "invalid_choice": "Select a kind from the list",
        },
    )
    order = forms.IntegerField(
        label="Order (optional)",
        help_text="Metrics are asked in this order, lowest first.",
        required=False,
        min_value=0,
        max_value=999,
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-3"}),
        error_messages={
            "invalid": "Enter the order as a whole number, like 2",
            "min_value": "The order must be 0 or more",
            "max_value": "The order must be 999 or less",
        },
    )

    def __init__(self, *args, mode: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_reason(mode)
