from django import forms
from django.conf import settings

from crimestats.sources.files import Refused, Upload
from csp.text import PrintableCharField
from review import evidence as files


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input: a list, empty when none was chosen."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        single = super().clean
        return [
            single(item, initial) for item in (data if isinstance(data, list | tuple) else [data])
        ]


class UpdateForm(forms.Form):
    """A lead agency's quarterly progress on a death review's action. Asking to close it
    needs the evidence: a summary, and files (the manager approves both)."""

    progress = PrintableCharField(
        label="Progress this quarter",
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "Enter the progress made on the action this quarter",
            "max_length": "The progress must be 5,000 characters or fewer",
        },
    )
    asks_to_close = forms.BooleanField(label="Ask to close this action", required=False)
    evidence_summary = PrintableCharField(
        label="How the evidence shows the action is done",
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "The summary must be 5,000 characters or fewer"},
    )
    files = MultipleFileField(
        label="Evidence files",
        required=False,
        error_messages={"empty": "A file you chose is empty. Choose the files again"},
    )
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=2**31 - 1
    )

    def __init__(self, *args, submitting: bool = False, attached: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.submitting = submitting
        self.attached = attached

    @classmethod
    def initial_from(cls, update) -> dict:
        if update is None:
            return {"version": 0}
        return {
            "progress": update.progress,
            "asks_to_close": update.asks_to_close,
            "evidence_summary": update.evidence_summary,
            "version": update.version,
        }

    def clean_files(self):
        uploads = self.cleaned_data["files"]
        for uploaded in uploads:
            try:
                files.identify(Upload(name=uploaded.name, stream=uploaded, size=uploaded.size))
            except Refused as error:
                raise forms.ValidationError(f"{error} Choose the files again.") from error
        if self.attached + len(uploads) > settings.EVIDENCE_MAX_FILES:
            raise forms.ValidationError(
                f"An update may have up to {settings.EVIDENCE_MAX_FILES} files. Choose fewer."
            )
        return uploads

    def clean(self):
        cleaned = super().clean()
        if self.submitting and cleaned.get("asks_to_close"):
            if not (cleaned.get("evidence_summary") or "").strip() and not self.has_error(
                "evidence_summary"
            ):
                self.add_error(
                    "evidence_summary",
                    "Enter how the evidence shows the action is done, to ask to close it",
                )
            if self.attached == 0 and not cleaned.get("files") and not self.has_error("files"):
                self.add_error("files", "Attach at least one file of evidence, to ask to close it")
        return cleaned
