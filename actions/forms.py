from django import forms

from csp.choices import ModelChoiceField
from csp.numbers import parse_count, parse_money, parse_percentage
from csp.text import PrintableCharField

from . import targets
from .models import MAX_COUNT, Metric, QuarterlyReturn

RAG = QuarterlyReturn.RAG
YES_NO = [("yes", "Yes"), ("no", "No")]


def metric_field_name(metric: Metric) -> str:
    return f"metric_{metric.pk}"


def confirm_field_name(metric: Metric) -> str:
    return f"confirm_{metric.pk}"


class CountField(forms.CharField):
    """A whole number as people type it, "1200" or "1,200" (csp/numbers.py, as the crime
    figures take it); cleaned to an int, or None when left blank."""

    def __init__(self, *, label, **kwargs):
        super().__init__(label=label, max_length=20, **kwargs)
        self.error_messages["max_length"] = f"{label} must be {MAX_COUNT:,} or fewer"

    def clean(self, value):
        text = super().clean(value)
        if text in self.empty_values:
            return None
        try:
            return parse_count(text, self.label, MAX_COUNT)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from error


class MoneyField(forms.CharField):
    """Pounds as people type them, "£1,250" or "1250.50" (csp/numbers.py); cleaned to
    whole pence, or None when left blank."""

    def __init__(self, *, label, **kwargs):
        super().__init__(label=label, max_length=20, **kwargs)
        self.error_messages["max_length"] = f"{label} must be an amount in pounds, like £1,250"

    def prepare_value(self, value):
        if isinstance(value, int):  # stored pence, shown as typed
            pounds, pence = divmod(value, 100)
            return f"{pounds:,}" if not pence else f"{pounds:,}.{pence:02d}"
        return value

    def clean(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return value  # a stored return's pence, checked again before it is submitted
        text = super().clean(value)
        if text in self.empty_values:
            return None
        try:
            return parse_money(text, self.label)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from error


class PercentageField(forms.CharField):
    """A percentage from 0 to 100, one decimal place at most; None when left blank."""

    def __init__(self, *, label, **kwargs):
        super().__init__(label=label, max_length=10, **kwargs)
        self.error_messages["max_length"] = f"{label} must be a percentage, like 82.5"

    def clean(self, value):
        text = super().clean(value)
        if text in self.empty_values:
            return None
        try:
            return parse_percentage(text, self.label)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from error


class ReturnForm(forms.Form):
    """A partner's quarterly return: one input per metric, a narrative and a RAG status.

    Save draft checks only what is typed; Submit also requires every metric, the narrative
    and the RAG status. The version is the one the user opened; it is compared, never saved.
    """

    narrative = PrintableCharField(
        label="Progress this quarter",
        help_text="What was done, what changed and what is planned next.",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"max_length": "Progress must be 10,000 characters or fewer"},
    )
    rag = forms.ChoiceField(
        label="RAG status",
        choices=RAG.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Select a RAG status from the list"},
    )
    rag_reason = PrintableCharField(
        label="Reason for a red or amber status",
        help_text="One line: what is holding the action back.",
        required=False,
        max_length=300,
        error_messages={"max_length": "The reason must be 300 characters or fewer"},
    )
    rag_override_reason = PrintableCharField(
        label="Why a RAG status other than the figures suggest",
        help_text="Only where you choose another status than the suggested one.",
        required=False,
        max_length=300,
        error_messages={"max_length": "The reason must be 300 characters or fewer"},
    )
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=2**31 - 1
    )

    def __init__(self, *args, metrics, quarter=None, trend=None, submitting=False, **kwargs):
        """``metrics`` are those asked in ``quarter``; ``trend`` is metric id → (quarter,
        value) of the agency's approved returns before it (actions.targets.trends)."""
        super().__init__(*args, **kwargs)
        self.metrics = list(metrics)
        self.quarter = quarter
        self.trend = trend or {}
        self.earlier = targets.earlier_values(self.trend)
        self.submitting = submitting
        self.suggestion = targets.Suggestion()
        for metric in self.metrics:
            self.fields[metric_field_name(metric)] = self.metric_field(metric)
            if metric.is_numeric and self.earlier.get(str(metric.pk)):
                self.fields[confirm_field_name(metric)] = forms.BooleanField(
                    label="Yes, this figure is right", required=False
                )
        # Metrics first, as the measure is read first; then narrative and RAG.
        self.order_fields([metric_field_name(m) for m in self.metrics])

    @staticmethod
    def metric_field(metric: Metric) -> forms.Field:
        name = metric.name
        if metric.kind == Metric.Kind.COUNT:
            return CountField(
                label=name,
                required=False,
                widget=forms.TextInput(
                    attrs={"inputmode": "numeric", "class": "govuk-input--width-10"}
                ),
            )
        if metric.kind == Metric.Kind.MONEY:
            return MoneyField(
                label=f"{name} (£)",
                required=False,
                widget=forms.TextInput(
                    attrs={"inputmode": "decimal", "class": "govuk-input--width-10"}
                ),
            )
        if metric.kind == Metric.Kind.PERCENTAGE:
            return PercentageField(
                label=f"{name} (%)",
                required=False,
                widget=forms.TextInput(
                    attrs={"inputmode": "decimal", "class": "govuk-input--width-5"}
                ),
            )
        if metric.kind == Metric.Kind.YES_NO:
            return forms.ChoiceField(
                label=name,
                choices=YES_NO,
                required=False,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": f"Select yes or no for {name.lower()}"},
            )
        return PrintableCharField(
            label=name,
            required=False,
            max_length=2_000,
            widget=forms.Textarea(attrs={"rows": 3}),
            error_messages={"max_length": f"{name} must be 2,000 characters or fewer"},
        )

    def clean(self):
        cleaned = super().clean()
        rag = cleaned.get("rag")
        if rag in (RAG.RED, RAG.AMBER) and not cleaned.get("rag_reason", "").strip():
            self.add_error("rag_reason", "Enter the reason for a red or amber status")
        if self.quarter is not None:
            self.suggestion = targets.suggest(
                self.metrics, self.quarter.number, self.values(), self.earlier
            )
        suggested = self.suggestion.rag
        if not (suggested and rag and rag != suggested):
            cleaned["rag_override_reason"] = ""  # only an override keeps its reason
        elif self.submitting and not cleaned.get("rag_override_reason", "").strip():
            self.add_error(
                "rag_override_reason",
                f"The figures suggest {suggested.replace('_', ' ')}: enter why the RAG status "
                "is another, or choose the suggested one",
            )
        if self.submitting:
            for metric in self.metrics:
                field = metric_field_name(metric)
                if field not in self.errors and cleaned.get(field) in (None, ""):
                    verb = "Select" if metric.kind == Metric.Kind.YES_NO else "Enter"
                    self.add_error(field, f"{verb} {metric.name.lower()} before you submit")
            if "narrative" not in self.errors and not cleaned.get("narrative", "").strip():
                self.add_error("narrative", "Enter the progress this quarter before you submit")
            if "rag" not in self.errors and not rag:
                self.add_error("rag", "Select a RAG status before you submit")
        return cleaned

    def values(self) -> dict:
        """Metric values keyed by metric id, leaving out what was left blank."""
        values = {}
        for metric in self.metrics:
            value = self.cleaned_data.get(metric_field_name(metric))
            if value not in (None, ""):
                values[str(metric.pk)] = value
        return values

    def confirmed_values(self) -> dict:
        """The far-from-trend values the partner ticked as right: metric id → value."""
        values = self.values()
        return {
            key: values[key]
            for metric in self.metrics
            if (key := str(metric.pk)) in values
            and self.cleaned_data.get(confirm_field_name(metric))
            and targets.is_outlier(values[key], self.earlier.get(key, []))
        }

    def _current_value(self, metric):
        name = metric_field_name(metric)
        if self.is_bound:
            if hasattr(self, "cleaned_data") and name not in self.errors:
                return self.cleaned_data.get(name)
            return None
        return self.initial.get(name)

    def figure_rows(self) -> list[dict]:
        """For the page: each metric's field, the quarters before beside it, and the
        question when its value is far from them."""
        rows = []
        for metric in self.metrics:
            key = str(metric.pk)
            before = self.earlier.get(key, [])
            value = self._current_value(metric)
            question = (
                targets.outlier_question(metric, value, before)
                if targets.is_outlier(value, before)
                else ""
            )
            confirm = confirm_field_name(metric)
            rows.append(
                {
                    "metric": metric,
                    "field": self[metric_field_name(metric)],
                    "before": [
                        (quarter, targets.format_value(metric, v))
                        for quarter, v in self.trend.get(key, [])
                    ],
                    "question": question,
                    "confirm": self[confirm] if confirm in self.fields else None,
                }
            )
        return rows

    @classmethod
    def initial_from(cls, quarterly_return: QuarterlyReturn | None, metrics) -> dict:
        if quarterly_return is None:
            return {"version": 0}  # none yet: a return started meanwhile is refused
        initial = {
            "narrative": quarterly_return.narrative,
            "rag": quarterly_return.rag,
            "rag_reason": quarterly_return.rag_reason,
            "rag_override_reason": quarterly_return.rag_override_reason,
            "version": quarterly_return.version,
        }
        for metric in metrics:
            initial[metric_field_name(metric)] = quarterly_return.values.get(str(metric.pk))
            if quarterly_return.is_confirmed(metric.pk):
                initial[confirm_field_name(metric)] = True
        return initial


class ReasonForm(forms.Form):
    """Send back or reopen: the reason is required and is shown to the partner."""

    reason = PrintableCharField(
        label="Reason",
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter the reason, so the agency knows what to change",
            "max_length": "The reason must be 5,000 characters or fewer",
        },
    )
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=2**31 - 1
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter the reason, so the agency knows what to change")
        return reason


class VersionForm(forms.Form):
    """Approve, submit after checking, recall: only the version the user saw."""

    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=2**31 - 1
    )


class ApproveForm(VersionForm):
    pass


class LockExceptionForm(forms.Form):
    quarter = ModelChoiceField(
        queryset=None,
        label="Closed quarter",
        empty_label=None,
        error_messages={
            "required": "Select the quarter",
            "invalid_choice": "Select a closed quarter",
        },
    )
    action = ModelChoiceField(
        queryset=None,
        label="Action",
        error_messages={"required": "Select the action", "invalid_choice": "Select the action"},
    )
    agency = ModelChoiceField(
        queryset=None,
        label="Agency",
        error_messages={"required": "Select the agency", "invalid_choice": "Select the agency"},
    )
    reason = PrintableCharField(
        label="Reason",
        max_length=300,
        error_messages={
            "required": "Enter the reason for reopening",
            "max_length": "The reason must be 300 characters or fewer",
        },
    )

    def __init__(self, *args, plan, manager, **kwargs):
        from csp.permissions import agencies_reporting_on

        from .models import Action, Agency
        from .obligations import with_coordinating

        super().__init__(*args, **kwargs)
        self.fields["quarter"].queryset = plan.quarters.filter(is_open=False).select_related("plan")
        self.fields["action"].queryset = (
            Action.objects.in_plan(plan).with_plan_order().prefetch_related("agencies")
        )
        # The field's own queryset, evaluated here: the select it renders reuses these rows.
        actions = self.fields["action"].queryset
        self.fields["action"].label_from_instance = lambda action: (
            f"{action.ref} {action.description[:70]}"
        )
        agencies = list(with_coordinating(Agency.objects.active().order_by("name")))
        self.fields["agency"].queryset = Agency.objects.active().order_by("name")
        # Each action's reporting agencies (the rule is csp.permissions'): the page narrows
        # the agency list to the chosen action's, and clean() refuses any other pair.
        self.agencies_by_action = {
            action.pk: agencies_reporting_on(action, agencies) for action in actions
        }

    def clean(self):
        cleaned = super().clean()
        action, agency = cleaned.get("action"), cleaned.get("agency")
        if action and agency:
            allowed = self.agencies_by_action.get(action.pk, [])
            if agency not in allowed:
                self.add_error("agency", cannot_report_message(action, agency, allowed))
        return cleaned

    def agency_choices_json(self) -> dict[str, list[int]]:
        """For the page's script: action id → the ids of the agencies that report on it."""
        return {
            str(pk): [agency.pk for agency in agencies]
            for pk, agencies in self.agencies_by_action.items()
        }


def cannot_report_message(action, agency, allowed) -> str:
    names = [other.short_name for other in allowed]
    choose = (
        f"Choose {', '.join(names[:-1])} or {names[-1]}"
        if len(names) > 1
        else f"Choose {names[0]}"
        if names
        else "No active agency reports on it"
    )
    return f"{agency.name} does not lead or contribute to action {action.ref}. {choose}."


class MetricTargetForm(forms.Form):
    """How often a metric is asked, and its target: the manager's page per metric.

    The target is typed in the metric's own unit (a count, a percentage, pounds) and read
    by the same parsers as the return form. A reason is required once the plan is active,
    so the history says why a target changed mid-year."""

    frequency = forms.ChoiceField(
        label="How often is it asked?",
        choices=Metric.Frequency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how often it is asked"},
    )
    target = PrintableCharField(
        label="Target",
        help_text="Leave blank for no target: the partner's RAG status stands alone.",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-10", "inputmode": "decimal"}),
    )
    target_period = forms.ChoiceField(
        label="The target is",
        choices=Metric.TargetPeriod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the target is for the year or each quarter"},
    )
    target_direction = forms.ChoiceField(
        label="Which way is better?",
        choices=Metric.Direction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether higher or lower is better"},
    )
    amber_tolerance = forms.IntegerField(
        label="Amber within (per cent of the target)",
        help_text="For example 10: up to 10% short of the target is amber, further is red.",
        min_value=0,
        max_value=100,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-3", "inputmode": "numeric"}),
        error_messages={
            "required": "Enter how far from the target is still amber, from 0 to 100",
            "invalid": "Enter how far from the target is still amber as a whole number, like 10",
            "min_value": "Amber must be within 0 to 100 per cent of the target",
            "max_value": "Amber must be within 0 to 100 per cent of the target",
        },
    )
    reason = PrintableCharField(
        label="Why is it changing?",
        help_text="Kept in the metric's history.",
        required=False,
        max_length=100,
        error_messages={"max_length": "The reason must be 100 characters or fewer"},
    )

    def __init__(self, *args, metric: Metric, reason_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.metric = metric
        self.reason_required = reason_required
        if metric.kind == Metric.Kind.MONEY:
            self.fields["target"].label = "Target (£)"
        elif metric.kind == Metric.Kind.PERCENTAGE:
            self.fields["target"].label = "Target (%)"
        if not metric.is_numeric:
            del self.fields["target"], self.fields["target_period"]
            del self.fields["target_direction"], self.fields["amber_tolerance"]

    @classmethod
    def initial_for(cls, metric: Metric) -> dict:
        initial = {
            "frequency": metric.frequency,
            "target_period": metric.target_period,
            "target_direction": metric.target_direction,
            "amber_tolerance": metric.amber_tolerance,
        }
        if metric.target is not None:
            stored = int(metric.target) if metric.target == int(metric.target) else metric.target
            initial["target"] = (
                MoneyField(label="").prepare_value(int(metric.target))
                if metric.kind == Metric.Kind.MONEY
                else str(stored)
            )
        return initial

    def clean_target(self):
        text = self.cleaned_data["target"].strip()
        if not text:
            return None
        try:
            if self.metric.kind == Metric.Kind.MONEY:
                return parse_money(text, "The target")
            if self.metric.kind == Metric.Kind.PERCENTAGE:
                return parse_percentage(text, "The target")
            return parse_count(text, "The target", MAX_COUNT)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from error

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if self.reason_required and not reason:
            raise forms.ValidationError("Enter why it is changing: the plan is active")
        return reason
