from django import forms

from crimestats.sources.files import Refused, Upload
from csp.choices import ModelChoiceField
from csp.text import PrintableCharField

from . import evidence as files


class CommentForm(forms.Form):
    text = PrintableCharField(
        label="Add a comment",
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter your comment",
            "max_length": "A comment must be 5,000 characters or fewer",
        },
    )


class FollowUpForm(forms.Form):
    metric = ModelChoiceField(
        queryset=None,
        label="Figure",
        empty_label="Choose a figure",
        error_messages={
            "required": "Choose the figure to follow up",
            "invalid_choice": "Choose a figure of this return",
        },
    )
    note = PrintableCharField(
        label="What do you want to know?",
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter what you want to know about the figure",
            "max_length": "The note must be 2,000 characters or fewer",
        },
    )

    def __init__(self, *args, metrics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].queryset = metrics
        self.fields["metric"].widget.attrs["class"] = "govuk-select"


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="A PDF, Word document, Excel spreadsheet, or PNG or JPEG image, up to 10 MB.",
        error_messages={
            "required": "Choose a file to attach",
            "empty": "The file is empty. Choose the file again",
        },
        widget=forms.ClearableFileInput(
            attrs={"class": "govuk-file-upload", "accept": ".pdf,.docx,.xlsx,.png,.jpg,.jpeg"}
        ),
    )
    description = PrintableCharField(
        label="What it shows (optional)",
        required=False,
        max_length=300,
        error_messages={"max_length": "The description must be 300 characters or fewer"},
        widget=forms.TextInput(attrs={"class": "govuk-input"}),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        try:
            self.kind = files.identify(
                Upload(name=uploaded.name, stream=uploaded, size=uploaded.size)
            )
        except Refused as error:
            raise forms.ValidationError(str(error)) from error
        return uploaded


class BulkApproveForm(forms.Form):
    """The returns ticked in the review queue; on the confirmation page, with the version
    of each the manager was shown."""

    returns = forms.TypedMultipleChoiceField(
        coerce=int,
        choices=(),
        error_messages={"required": "Tick the returns to approve"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any whole number; which of them the manager may approve is the service's question.
        self.fields["returns"].valid_value = lambda value: str(value).isdigit()
