from django import forms
from django.contrib.auth.forms import SetPasswordForm

from accounts.models import Role, User
from actions.models import Agency
from csp.choices import ModelChoiceField, ModelMultipleChoiceField


def _agency_choices():
    return Agency.objects.active().order_by("name")


class PersonForm(forms.Form):
    """Who a user is and what they may do: the invitation's fields, and the change form's."""

    first_name = forms.CharField(
        label="First name", max_length=150, error_messages={"required": "Enter the first name"}
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, error_messages={"required": "Enter the last name"}
    )
    job_title = forms.CharField(label="Job title (optional)", max_length=200, required=False)
    role = forms.ChoiceField(
        label="Role",
        choices=Role.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select the role",
            "invalid_choice": "Select a role from the list",
        },
    )
    agencies = ModelMultipleChoiceField(
        label="Agencies",
        help_text="A partner user submits returns for these agencies. Leave empty for other roles.",
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select agencies from the list"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agencies"].queryset = _agency_choices()

    def clean(self):
        data = super().clean()
        if data.get("role") == Role.PARTNER and not data.get("agencies"):
            self.add_error("agencies", "Select the agencies a partner user reports for")
        return data


class InviteForm(PersonForm):
    email = forms.EmailField(
        label="E-mail address",
        help_text="The invitation goes here, and it is what they sign in with.",
        max_length=150,
        error_messages={
            "required": "Enter the e-mail address",
            "invalid": "Enter an e-mail address in the right format, like name@example.org",
            "max_length": "The e-mail address must be 150 characters or fewer",
        },
    )
    field_order = ["first_name", "last_name", "email", "job_title", "role", "agencies"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if (
            User.objects.filter(email__iexact=email).exists()
            or User.objects.filter(username__iexact=email).exists()
        ):
            raise forms.ValidationError("Someone already has an account with this e-mail address")
        return email


class UserChangeForm(PersonForm):
    @classmethod
    def initial_for(cls, user) -> dict:
        return {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "job_title": user.job_title,
            "role": user.role,
            "agencies": list(user.agencies.all()),
        }


class AgencyForm(forms.ModelForm):
    aliases = forms.CharField(
        label="Other names (optional)",
        help_text="Other names the plan uses for this agency, one on each line.",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    class Meta:
        model = Agency
        fields = ["name", "short_name", "kind", "aliases"]
        labels = {"name": "Name", "short_name": "Short name", "kind": "Kind of agency"}
        help_texts = {"short_name": "As in tables and e-mails, like DAVSS or KFRS."}
        error_messages = {
            "name": {
                "required": "Enter the agency's name",
                "unique": "An agency with this name already exists",
                "max_length": "The name must be 200 characters or fewer",
            },
            "short_name": {
                "required": "Enter the short name",
                "max_length": "The short name must be 60 characters or fewer",
            },
            "kind": {
                "required": "Select the kind of agency",
                "invalid_choice": "Select a kind from the list",
            },
        }
        widgets = {"kind": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Agency.Kind.choices
        if self.instance.pk and not self.is_bound:
            self.initial["aliases"] = "\n".join(self.instance.aliases)

    def clean_aliases(self):
        names = []
        for line in self.cleaned_data["aliases"].splitlines():
            name = " ".join(line.split())
            if name and name.casefold() not in {n.casefold() for n in names}:
                if len(name) > 200:
                    raise forms.ValidationError("Each name must be 200 characters or fewer")
                names.append(name)
        return names


class MergeForm(forms.Form):
    merged = ModelChoiceField(
        label="Agency to merge into this one",
        help_text="Its returns, actions and members move here; its names become other names "
        "of this agency. You confirm on the next page.",
        queryset=Agency.objects.none(),
        error_messages={
            "required": "Select the agency to merge",
            "invalid_choice": "Select an agency from the list",
        },
    )

    def __init__(self, *args, kept, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merged"].queryset = (
            Agency.objects.filter(merged_into__isnull=True).exclude(pk=kept.pk).order_by("name")
        )


class AcceptInvitationForm(SetPasswordForm):
    """Choose a password: Django's form, so the password rules (AUTH_PASSWORD_VALIDATORS)
    apply exactly as they do to a reset or a change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Choose a password"
        self.fields["new_password2"].label = "Type the password again"
