"""The manager's forms for the record of death reviews: a review and its dates, its
recommendations and their actions, and the list of themes. Each rule on the dates is
checked here and worded next to the field it is about; the services save."""

import datetime

from django import forms
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.dateformat import format as format_date

from accounts.models import Role, User
from actions.models import Agency
from csp.choices import ModelChoiceField, ModelMultipleChoiceField
from csp.text import PrintableCharField

from .models import Recommendation, Review, Theme

DATE_ERRORS = {"required": "Enter the date", "invalid": "Enter a real date, like 2025-02-16"}
PSEUDONYM_HINT = (
    "Use the name the report uses, such as 'Adult A'. Never enter the real name, date of "
    "birth or address of the person who died or of anyone else."
)


def _date(label: str, *, required: bool = False, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label if required else f"{label} (optional)",
        required=required,
        help_text=help_text,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        error_messages=DATE_ERRORS,
    )


def _text(label, max_length, *, required=True, rows=None, help_text="", missing=""):
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


def _day(value: datetime.date) -> str:
    return format_date(value, "j F Y")


# The dates of a review in the order they happen: each must be on or after the one before
# it that is recorded (name, the words for it in a message).
DATE_ORDER = [
    ("notified_on", "the date the partnership was notified"),
    ("decision_on", "the date of the decision"),
    ("panel_convened_on", "the date the panel first met"),
    ("sent_to_qa_panel_on", "the date the report went to the quality assurance panel"),
    ("qa_outcome_on", "the date of the quality assurance outcome"),
    ("published_on", "the date published"),
]
# What a review not held cannot have.
AFTER_DECISION = (
    "panel_convened_on",
    "sent_to_qa_panel_on",
    "qa_outcome",
    "qa_outcome_on",
    "sent_to_commissioner_on",
    "published_on",
)


class ReviewForm(forms.Form):
    reference = _text(
        "Reference", 40, help_text="The partnership's reference, for example DARDR 2024/01."
    )
    pseudonym = _text("Pseudonym", 60, help_text=PSEUDONYM_HINT)
    notified_on = _date(
        "Date the partnership was notified",
        required=True,
        help_text="The decision whether to hold a review is due within one month of it.",
    )
    decision = forms.ChoiceField(
        label="Decision (optional)",
        choices=[("", "Not decided yet"), *Review.Decision.choices],
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select a decision from the list"},
    )
    decision_on = _date("Date of the decision")
    decision_reason = _text(
        "Reason for the decision",
        2_000,
        required=False,
        rows=3,
        help_text="Required once a decision is recorded. No names.",
    )
    panel_convened_on = _date("Date the panel first met")
    sent_to_qa_panel_on = _date(
        "Date the report went to the Home Office quality assurance panel",
        help_text="Due within six months of the decision.",
    )
    qa_outcome = forms.ChoiceField(
        label="Quality assurance outcome (optional)",
        choices=[("", "No outcome yet"), *Review.QaOutcome.choices],
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select an outcome from the list"},
    )
    qa_outcome_on = _date("Date of the outcome")
    sent_to_commissioner_on = _date(
        "Date the report went to the Domestic Abuse Commissioner",
        help_text="The Victims and Prisoners Act 2024 (s19) requires it when the report goes "
        "to the Home Office.",
    )
    published_on = _date("Date published")
    panel_members = ModelMultipleChoiceField(
        label="Panel members (optional)",
        help_text="They read this review's record. Partners' accounts only.",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select panel members from the list"},
    )

    def __init__(self, *args, review: Review | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.review = review
        field = self.fields["panel_members"]
        # Each labelled with their agencies, so a panel is chosen from across the partnership.
        users = (
            User.objects.filter(is_active=True, role=Role.PARTNER)
            .prefetch_related(Prefetch("agencies", queryset=Agency.objects.order_by("name")))
            .order_by("first_name", "last_name", "username")
        )
        field.queryset = users
        field.label_from_instance = self._member_label

    @staticmethod
    def _member_label(user) -> str:
        agencies = ", ".join(agency.short_name or agency.name for agency in user.agencies.all())
        name = user.get_full_name() or user.get_username()
        return f"{name} ({agencies})" if agencies else name

    @classmethod
    def initial_for(cls, review: Review) -> dict:
        initial = {
            name: getattr(review, name) for name in cls.base_fields if name != "panel_members"
        }
        initial["panel_members"] = [user.pk for user in review.panel_members.all()]
        return initial

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip()
        others = Review.objects.filter(reference__iexact=reference)
        if self.review is not None:
            others = others.exclude(pk=self.review.pk)
        if others.exists():
            raise forms.ValidationError(f"Another review has the reference {reference}")
        return reference

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        for name in [*(name for name, _ in DATE_ORDER), "sent_to_commissioner_on"]:
            value = data.get(name)
            if value and value > today:
                self.add_error(name, f"The date must be today or in the past, not {_day(value)}")
                data[name] = None
        # Each date on or after the one before it that is recorded.
        earlier = None
        for name, words in DATE_ORDER:
            value = data.get(name)
            if value is None:
                continue
            if earlier is not None and value < earlier[1]:
                self.add_error(
                    name,
                    f"The date must be on or after {earlier[0]} ({_day(earlier[1])})",
                )
            else:
                earlier = (words, value)
        self._check_pairs(data)
        return data

    def _check_pairs(self, data) -> None:
        decision, decision_on = data.get("decision"), data.get("decision_on")
        if decision and not decision_on and "decision_on" not in self.errors:
            self.add_error("decision_on", "Enter the date of the decision")
        if decision_on and not decision:
            self.add_error("decision", "Select the decision made on that date")
        reason = data.get("decision_reason", "").strip()
        if decision and not reason and "decision_reason" not in self.errors:
            self.add_error("decision_reason", "Enter the reason for the decision")
        if decision == Review.Decision.NOT_HOLD:
            for name in AFTER_DECISION:
                if data.get(name) and name not in self.errors:
                    self.add_error(name, "A review not held has no later steps: leave this empty")
            return
        if not decision:
            for name in AFTER_DECISION:
                if data.get(name) and name not in self.errors:
                    self.add_error(name, "Record the decision to hold a review first")
            return
        sent, outcome, outcome_on = (
            data.get("sent_to_qa_panel_on"),
            data.get("qa_outcome"),
            data.get("qa_outcome_on"),
        )
        if sent and not data.get("panel_convened_on") and "panel_convened_on" not in self.errors:
            self.add_error("panel_convened_on", "Enter the date the panel first met")
        if outcome and not outcome_on and "qa_outcome_on" not in self.errors:
            self.add_error("qa_outcome_on", "Enter the date of the outcome")
        if outcome_on and not outcome:
            self.add_error("qa_outcome", "Select the outcome given on that date")
        if (outcome or outcome_on) and not sent and "sent_to_qa_panel_on" not in self.errors:
            self.add_error(
                "sent_to_qa_panel_on", "Enter the date the report went to the panel first"
            )
        commissioner = data.get("sent_to_commissioner_on")
        if commissioner and "sent_to_commissioner_on" not in self.errors:
            if not sent:
                self.add_error(
                    "sent_to_commissioner_on",
                    "Enter the date the report went to the quality assurance panel first",
                )
            elif commissioner < sent:
                self.add_error(
                    "sent_to_commissioner_on",
                    "The date must be on or after the date the report went to the quality "
                    f"assurance panel ({_day(sent)})",
                )
        published = data.get("published_on")
        if published and outcome != Review.QaOutcome.ACCEPTED and "published_on" not in self.errors:
            self.add_error(
                "published_on",
                "A report is published only once the quality assurance panel accepts it",
            )


def _agencies():
    return Agency.objects.active().order_by("name")


class RecommendationForm(forms.Form):
    number = forms.IntegerField(
        label="Number",
        min_value=1,
        max_value=999,
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-3"}),
        error_messages={
            "required": "Enter the recommendation's number",
            "invalid": "Enter the number as a whole number, like 3",
            "min_value": "The number must be 1 or more",
            "max_value": "The number must be 999 or less",
        },
    )
    text = _text("Recommendation", 5_000, rows=5, help_text="Its words as published in the report.")
    scope = forms.ChoiceField(
        label="Scope",
        choices=Recommendation.Scope.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select local or national",
            "invalid_choice": "Select local or national",
        },
    )
    made_on = _date("Date agreed", required=True, help_text="When the panel agreed it.")
    owners = ModelMultipleChoiceField(
        label="Agencies that own it",
        help_text="Their users see this recommendation and its actions, and nothing else of "
        "the review.",
        queryset=Agency.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select at least one agency",
            "invalid_choice": "Select agencies from the list",
        },
    )
    themes = ModelMultipleChoiceField(
        label="Themes (optional)",
        queryset=Theme.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select themes from the list"},
    )

    def __init__(self, *args, review: Review, recommendation: Recommendation | None = None, **kw):
        super().__init__(*args, **kw)
        self.review, self.recommendation = review, recommendation
        owners = _agencies()
        themes = Theme.objects.filter(partnership=review.partnership_id, retired=False)
        if recommendation is not None:  # keep what it has, even if retired since
            owners = owners | recommendation.owners.all()
            themes = themes | recommendation.themes.all()
        self.fields["owners"].queryset = owners.distinct().order_by("name")
        self.fields["themes"].queryset = themes.distinct()

    @classmethod
    def initial_for(cls, recommendation: Recommendation) -> dict:
        return {
            "number": recommendation.number,
            "text": recommendation.text,
            "scope": recommendation.scope,
            "made_on": recommendation.made_on,
            "owners": [agency.pk for agency in recommendation.owners.all()],
            "themes": [theme.pk for theme in recommendation.themes.all()],
        }

    def clean_number(self):
        number = self.cleaned_data["number"]
        taken = self.review.recommendations.filter(number=number)
        if self.recommendation is not None:
            taken = taken.exclude(pk=self.recommendation.pk)
        if taken.exists():
            raise forms.ValidationError(f"The review already has a recommendation {number}")
        return number

    def clean_made_on(self):
        made_on = self.cleaned_data["made_on"]
        if made_on > timezone.localdate():
            raise forms.ValidationError(
                f"The date must be today or in the past, not {_day(made_on)}"
            )
        if made_on < self.review.notified_on:
            raise forms.ValidationError(
                "The date must be on or after the date the partnership was notified "
                f"({_day(self.review.notified_on)})"
            )
        return made_on


class ReviewActionForm(forms.Form):
    number = forms.IntegerField(
        label="Number",
        min_value=1,
        max_value=999,
        help_text="Its ref is the recommendation's number, then this one, like 2.1.",
        widget=forms.NumberInput(attrs={"class": "govuk-input--width-3"}),
        error_messages={
            "required": "Enter the action's number",
            "invalid": "Enter the number as a whole number, like 2",
            "min_value": "The number must be 1 or more",
            "max_value": "The number must be 999 or less",
        },
    )
    text = _text("Action", 3_000, rows=4, missing="Enter the action")
    lead_agency = ModelChoiceField(
        label="Lead agency",
        help_text="Its users report progress each quarter.",
        queryset=Agency.objects.none(),
        error_messages={
            "required": "Select the lead agency",
            "invalid_choice": "Select an agency from the list",
        },
    )
    target_date = _date("Target date", required=True)
    evidence_needed = _text(
        "Evidence needed",
        2_000,
        rows=3,
        help_text="What will show the action is done. The action closes only when the manager "
        "approves that evidence.",
        missing="Enter the evidence needed to close the action",
    )

    def __init__(self, *args, recommendation: Recommendation, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.recommendation, self.action = recommendation, action
        agencies = _agencies()
        if action is not None:
            agencies = agencies | Agency.objects.filter(pk=action.lead_agency_id)
        self.fields["lead_agency"].queryset = agencies.distinct().order_by("name")

    @classmethod
    def initial_for(cls, action) -> dict:
        return {name: getattr(action, name) for name in cls.base_fields}

    def clean_number(self):
        number = self.cleaned_data["number"]
        taken = self.recommendation.actions.filter(number=number)
        if self.action is not None:
            taken = taken.exclude(pk=self.action.pk)
        if taken.exists():
            raise forms.ValidationError(
                f"Recommendation {self.recommendation.number} already has an action "
                f"{self.recommendation.number}.{number}"
            )
        return number

    def clean_target_date(self):
        target = self.cleaned_data["target_date"]
        if target < self.recommendation.made_on:
            raise forms.ValidationError(
                "The target date must be on or after the date the recommendation was agreed "
                f"({_day(self.recommendation.made_on)})"
            )
        return target


class ThemeForm(forms.Form):
    name = _text("Name", 100, help_text="For example, coercive control.", missing="Enter the theme")

    def __init__(self, *args, partnership_id: int, theme: Theme | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.partnership_id, self.theme = partnership_id, theme

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        taken = Theme.objects.filter(partnership=self.partnership_id, name__iexact=name)
        if self.theme is not None:
            taken = taken.exclude(pk=self.theme.pk)
        if taken.exists():
            raise forms.ValidationError(f"There is already a theme called {name}")
        return name
