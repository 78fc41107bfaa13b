from django import forms

from csp.numbers import parse_count
from csp.text import PrintableCharField

from .csv_import import MAX_BYTES
from .entry import (
    MIN_YEAR,
    latest_year_allowed,
    parse_position,
    stored_position,
)


def year_field(label: str, help_text: str) -> forms.IntegerField:
    latest = latest_year_allowed()
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=MIN_YEAR,
        max_value=latest,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-4"}),
        error_messages={
            "required": "Enter the year the figures are for, like 2022",
            "invalid": "The year must be a year in numbers, like 2022",
            "min_value": f"The year must be {MIN_YEAR} or later",
            "max_value": f"The year must be {latest} or earlier",
        },
    )


class YearChoiceForm(forms.Form):
    year = year_field("Year", "The calendar year of the assessment period, like 2022.")


class YearFiguresForm(forms.Form):
    """A year's figures: a count and a county position for each crime type.

    Blank leaves a crime type without a figure for the year; a figure or position already
    held cannot be blanked here (the history would show a correction, not a removal).
    ``seen`` is the fingerprint of the year's figures as the form was opened.
    """

    seen = PrintableCharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, year, crime_types, figures, positions, areas_compared, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year
        self.crime_types = list(crime_types)
        self.stored_counts = {
            ct_id: figure.count for (ct_id, y), figure in figures.items() if y == year
        }
        self.stored_positions = {
            ct_id: stored_position(p) for (ct_id, y), p in positions.items() if y == year
        }
        self.areas_compared = areas_compared
        for crime_type in self.crime_types:
            self.fields[f"count_{crime_type.pk}"] = PrintableCharField(
                label=f"Count of {crime_type.label} in {year}",
                required=False,
                max_length=20,
                widget=forms.TextInput(
                    attrs={"inputmode": "numeric", "class": "govuk-input--width-5"}
                ),
                error_messages={
                    "max_length": f"The count of {crime_type.label} must be a whole number "
                    "of 1,000,000 or fewer"
                },
            )
            self.fields[f"position_{crime_type.pk}"] = PrintableCharField(
                label=f"County position of {crime_type.label} in {year}",
                required=False,
                max_length=10,
                widget=forms.TextInput(attrs={"class": "govuk-input--width-3"}),
                error_messages={
                    "max_length": f"The county position of {crime_type.label} must be a "
                    f"number from 1 to {areas_compared}, =3 for a shared position, or --"
                },
            )
        if not self.is_bound:
            for crime_type in self.crime_types:
                count = self.stored_counts.get(crime_type.pk)
                position = self.stored_positions.get(crime_type.pk)
                self.initial[f"count_{crime_type.pk}"] = "" if count is None else f"{count:,}"
                self.initial[f"position_{crime_type.pk}"] = position.display if position else ""

    def rows(self):
        """(crime type, count field, position field) for the template's table."""
        return [(ct, self[f"count_{ct.pk}"], self[f"position_{ct.pk}"]) for ct in self.crime_types]

    def clean(self):
        cleaned = super().clean()
        self.counts: dict = {}
        self.positions: dict = {}
        for crime_type in self.crime_types:
            count_field, position_field = f"count_{crime_type.pk}", f"position_{crime_type.pk}"
            count_text = cleaned.get(count_field)
            position_text = cleaned.get(position_field)
            what = f"The count of {crime_type.label} in {self.year}"
            if count_text:
                try:
                    self.counts[(crime_type, self.year)] = parse_count(count_text, what)
                except ValueError as error:
                    self.add_error(count_field, str(error))
            elif count_text == "" and crime_type.pk in self.stored_counts:
                self.add_error(
                    count_field,
                    f"Enter the count of {crime_type.label} in {self.year}: the figure held "
                    f"({self.stored_counts[crime_type.pk]:,}) can be corrected but not removed",
                )
            what = f"The county position of {crime_type.label} in {self.year}"
            if position_text:
                try:
                    self.positions[(crime_type, self.year)] = parse_position(
                        position_text, what, self.areas_compared
                    )
                except ValueError as error:
                    self.add_error(position_field, str(error))
            elif position_text == "" and crime_type.pk in self.stored_positions:
                self.add_error(
                    position_field,
                    f"Enter the county position of {crime_type.label} in {self.year}, "
                    "or -- for none",
                )
        if not self.counts and not self.positions and not self.errors:
            self.add_error(None, f"Enter at least one count or county position for {self.year}")
        return cleaned


class ImportForm(forms.Form):
    year = year_field(
        "Year the figures are for",
        "The file’s count column is this year’s, its previous count the year before’s.",
    )
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: Crime type, Count, Previous count, County position.",
        error_messages={
            "required": "Choose a CSV file to import",
            "empty": "The file is empty",
            "invalid": "Choose a CSV file to import",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(f"The file must be {MAX_BYTES // 1024} KB or smaller")
        return upload
