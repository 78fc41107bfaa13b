"""Django's model choice fields, refusing an id no database column can hold.

A posted id past a 64-bit integer ("9223372036854775808") reaches the database as a lookup:
SQLite cannot bind it (OverflowError, which the fields do not catch), so the form answered
500. Here it is an invalid choice, worded by the field like any other.
"""

from django import forms
from django.core.exceptions import ValidationError

LARGEST_ID = 2**63 - 1


def _out_of_range(value) -> bool:
    try:
        return abs(int(str(value).strip())) > LARGEST_ID
    except (TypeError, ValueError):
        return False  # not a number: the field's own check refuses it


class ModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and _out_of_range(value):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for pk in value or ():
            if _out_of_range(pk):
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)
