from django import forms

from actions.models import Action, Agency
from crimestats.models import Area
from csp.choices import ModelMultipleChoiceField
from csp.text import require_printable

from .models import Partnership, Plan, Priority

DATE_ERRORS = {"required": "Enter the date", "invalid": "Enter a real date, like 2023-02-16"}


def _date(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        error_messages=DATE_ERRORS,
    )


class PartnershipForm(forms.ModelForm):
    home_area_code = forms.ChoiceField(
        label="Home area",
        help_text="The district whose crime figures the partnership's pages show.",
        error_messages={"invalid_choice": "Select an area from the list"},
    )

    class Meta:
        model = Partnership
        fields = [
            "name",
            "header_name",
            "home_area_code",
            "coordinating_agency",
            "contact_name",
            "contact_email",
        ]
        labels = {
            "name": "Name",
            "header_name": "Name in the header",
            "coordinating_agency": "Coordinating agency",
            "contact_name": "Contact name",
            "contact_email": "Contact e-mail address",
        }
        error_messages = {
            "name": {
                "required": "Enter the partnership's name",
                "unique": "A partnership with this name already exists",
            },
            "header_name": {"required": "Enter the name shown in the header"},
            "contact_email": {
                "invalid": "Enter an e-mail address in the right format, like name@example.org"
            },
            "coordinating_agency": {"invalid_choice": "Select an agency from the list"},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_area_code"].choices = [("", "None")] + [
            (area.ons_code, area.name) for area in Area.objects.order_by("name")
        ]
        self.fields["home_area_code"].required = False
        self.fields["coordinating_agency"].queryset = Agency.objects.active().order_by("name")


# The model's text fields, as every form's: printable text only (csp.text).
for _name in ("name", "header_name", "contact_name", "contact_email"):
    require_printable(PartnershipForm.base_fields[_name])


class StartNextPlanForm(forms.Form):
    """Which priorities and actions carry forward, and the assessment period."""

    priorities = ModelMultipleChoiceField(
        label="Priorities to carry forward",
        queryset=Priority.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one priority to carry forward"},
    )
    actions = ModelMultipleChoiceField(
        label="Actions to carry forward",
        help_text="Ticked: every action not reported Complete in its latest approved return.",
        queryset=Action.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    assessment_start = _date("Assessment period starts")
    assessment_end = _date("Assessment period ends")

    def __init__(self, *args, plan: Plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priorities"].queryset = plan.priorities.order_by("number")
        self.fields["priorities"].label_from_instance = lambda p: f"{p.number}. {p.title}"
        self.fields["actions"].queryset = Action.objects.in_plan(plan).with_plan_order()
        self.fields["actions"].label_from_instance = lambda a: f"{a.ref} {a.description}"

    def clean(self):
        data = super().clean()
        start, end = data.get("assessment_start"), data.get("assessment_end")
        if start and end and end < start:
            self.add_error("assessment_end", "The assessment period must end after it starts")
        priorities = set(data.get("priorities") or [])
        stray = [a.ref for a in data.get("actions") or [] if a.priority not in priorities]
        if priorities and stray:
            self.add_error(
                "actions",
                f"Actions {', '.join(stray)} belong to priorities not carried forward: "
                "tick their priority or untick them",
            )
        return data


class SignOffForm(forms.Form):
    board_meeting = _date("Date of the board meeting")
    decision = forms.ChoiceField(
        label="The board's decision",
        choices=Plan.BoardDecision.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the board's decision",
            "invalid_choice": "Select a decision from the list",
        },
    )
    sent_to_pcc = _date("Date sent to the Police and Crime Commissioner (optional)", required=False)

    def clean(self):
        data = super().clean()
        meeting, pcc = data.get("board_meeting"), data.get("sent_to_pcc")
        if meeting and pcc and pcc < meeting:
            self.add_error(
                "sent_to_pcc", "The plan cannot have gone to the PCC before the board met"
            )
        return data
