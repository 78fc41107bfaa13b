from django import forms

from actions.models import Agency
from csp.choices import ModelChoiceField
from csp.text import require_printable
from priorities.models import Quarter

from .models import BoardPaper


class ReminderForm(forms.Form):
    """The completeness page's "Send reminder" button: an agency and a quarter of the plan."""

    agency = ModelChoiceField(queryset=Agency.objects.active())
    quarter = ModelChoiceField(queryset=Quarter.objects.none())

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quarter"].queryset = Quarter.objects.filter(plan=plan).select_related("plan")


class BoardPaperForm(forms.ModelForm):
    """The committee paper's cover and messages, written by the manager before issuing."""

    class Meta:
        model = BoardPaper
        fields = [
            "meeting",
            "meeting_date",
            "author",
            "purpose",
            "key_messages",
            "recommendation",
            "marking",
        ]
        widgets = {
            "meeting_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "key_messages": forms.Textarea(attrs={"rows": 6}),
            "recommendation": forms.Textarea(attrs={"rows": 3}),
            "marking": forms.RadioSelect,
        }
        error_messages = {
            "meeting": {"required": "Enter the meeting the paper is for"},
            "meeting_date": {
                "required": "Enter the date of the meeting",
                "invalid": "Enter the date of the meeting as a real date, like 12 3 2026",
            },
            "author": {"required": "Enter the author's name and role"},
            "purpose": {"required": "Enter the purpose of the paper"},
            "key_messages": {"required": "Enter the key messages for the board"},
            "recommendation": {"required": "Enter the recommendation to the board"},
            "marking": {
                "required": "Select the protective marking",
                "invalid_choice": "Select a protective marking from the list",
            },
        }


for _field in BoardPaperForm.base_fields.values():
    require_printable(_field)
