"""Forms of the plan import pages: the spreadsheet, and how each unresolved name resolves."""

from pathlib import Path

from django import forms

from actions.models import Agency
from crimestats.sources.files import limits, megabytes

from .plan_import import KEEP, NEW

EXTENSIONS = (".xlsx", ".csv")


class PlanUploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        error_messages={
            "required": "Choose a spreadsheet to upload",
            "empty": "The file is empty",
            "invalid": "Choose a spreadsheet to upload",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in EXTENSIONS:
            raise forms.ValidationError(f"{upload.name} is not an .xlsx or .csv file")
        largest = limits().upload_bytes
        if upload.size > largest:
            raise forms.ValidationError(f"{upload.name} is larger than {megabytes(largest)}")
        return upload


class ResolutionForm(forms.Form):
    """One choice per name the import could not resolve: an existing agency, a new agency
    with that name, or the name kept as printed only."""

    def __init__(self, *args, unresolved: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.agency_options = agencies = [
            (str(pk), name)
            for pk, name in Agency.objects.filter(merged_into__isnull=True).values_list(
                "pk", "name"
            )
        ]
        self.names = []
        for index, item in enumerate(unresolved):
            key = f"name_{index}"
            self.fields[key] = forms.ChoiceField(
                label=item["name"],
                choices=[
                    (KEEP, "Keep as printed only"),
                    (NEW, "A new agency"),
                    *agencies,
                ],
                initial=KEEP,
                required=False,  # not chosen: kept as printed
                error_messages={"invalid_choice": "Choose an agency from the list"},
            )
            self.names.append((key, item))

    def choices(self) -> dict[str, str]:
        return {item["name"]: self.cleaned_data[key] or KEEP for key, item in self.names}

    def rows(self):
        """(bound field, the name and the refs that print it) for the template."""
        return [(self[key], item) for key, item in self.names]
