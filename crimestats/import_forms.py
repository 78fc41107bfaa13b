"""Forms of the import pages: uploading source files, and mapping a source category to the
partnership's crime types."""

from pathlib import Path

from django import forms

from csp.choices import ModelMultipleChoiceField

from .models import CrimeType, Source
from .sources.files import limits, megabytes

MAX_FILES = 40  # three years of monthly street-level files, with room to spare
EXTENSIONS = {
    Source.HOME_OFFICE: (".xlsx", ".ods", ".xls", ".csv"),
    Source.POLICE_UK: (".csv", ".zip"),
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class SourceFilesField(forms.FileField):
    """One or more files; cleans to a list."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(SourceFilesField, self).clean(item, initial) for item in files]


class UploadForm(forms.Form):
    files = SourceFilesField(
        label="Files",
        error_messages={
            "required": "Choose a file to upload",
            "empty": "The file is empty",
            "invalid": "Choose a file to upload",
        },
    )

    def __init__(self, *args, source: str, **kwargs):
        kwargs.setdefault("prefix", source)
        super().__init__(*args, **kwargs)
        self.source = source

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Upload at most {MAX_FILES} files at a time")
        allowed = EXTENSIONS[self.source]
        largest = limits().upload_bytes
        for upload in files:
            if Path(upload.name).suffix.lower() not in allowed:
                raise forms.ValidationError(f"{upload.name} is not a {' or '.join(allowed)} file")
            if upload.size > largest:
                raise forms.ValidationError(
                    f"{upload.name} is larger than {megabytes(largest)}; load it with the "
                    "management command instead"
                )
        return files


class CategoryMappingForm(forms.Form):
    crime_types = ModelMultipleChoiceField(
        label="Crime types this category counts towards",
        help_text="Leave every box clear to count it towards none (it is then reported as unmapped).",
        queryset=CrimeType.objects.order_by("display_order", "name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
