from django import forms

from actions.models import Agency
from priorities.models import Quarter


class ReminderForm(forms.Form):
    """The completeness page's "Send reminder" button: an agency and a quarter of the plan."""

    agency = forms.ModelChoiceField(queryset=Agency.objects.active())
    quarter = forms.ModelChoiceField(queryset=Quarter.objects.none())

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quarter"].queryset = Quarter.objects.filter(plan=plan).select_related("plan")
