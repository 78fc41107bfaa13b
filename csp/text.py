"""Text is clean at the door: every text field of every form takes printable text, line
breaks and tabs only.

Other control characters are invisible on screen, yet a Word or Excel file cannot hold them
(XML 1.0 forbids them), a log line can be forged with them, and a vertical tab comes with
text pasted from Word (it is Word's manual line break). So a text field refuses them, with a
message that says where the character is, and keeps what was typed.

- `validate_printable`, the validator every text field carries: `PrintableCharField` for
  the app's own forms, `PrintableTextAdmin` for the admin's (tests/test_text.py walks every
  form and the admin to check that none forgets).
- `printable`, for text already held (typed before this rule, or loaded by a command): every
  export passes its text through it (csp/exports.py, dashboard/paper.py).
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# C0 controls other than tab, line feed and carriage return; DEL and the C1 controls; lone
# surrogates; and the two non-characters XML 1.0 excludes.
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

NAMES = {
    "\x00": "a null character",
    "\x0b": "a vertical tab",
    "\x0c": "a page break",
    "\x1b": "an escape character",
    "\x7f": "a delete character",
}
CONTEXT = 30  # at most this many characters before the hidden one say where it is


def describe(char: str) -> str:
    return NAMES.get(char, f"a control character (U+{ord(char):04X})")


@deconstructible
class PrintableTextValidator:
    code = "unprintable"

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        found = UNPRINTABLE.search(value)
        if found is None:
            return
        before = ""
        for word in reversed(UNPRINTABLE.sub("", value[: found.start()]).split()):
            if before and len(word) + len(before) >= CONTEXT:
                break
            before = f"{word} {before}".strip()
        before = before if len(before) <= CONTEXT else "…" + before[-CONTEXT:]
        where = f"after “{before}”" if before else "at the start"
        raise ValidationError(
            "The text has a hidden character (%(what)s) %(where)s, often pasted from Word. "
            "Delete it, or retype that part of the text",
            code=self.code,
            params={"what": describe(found.group()), "where": where},
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, PrintableTextValidator)

    def __hash__(self) -> int:
        return hash(PrintableTextValidator)


validate_printable = PrintableTextValidator()


def require_printable(field: forms.Field) -> forms.Field:
    """Give a form's text field the validator (once); other fields are left as they are."""
    if isinstance(field, forms.CharField) and validate_printable not in field.validators:
        field.validators.append(validate_printable)
    return field


class PrintableCharField(forms.CharField):
    """The app's text field: Django's CharField, refusing hidden control characters."""

    default_validators = [validate_printable]


class PrintableTextAdmin:
    """A ModelAdmin or inline mixin: every text field of the admin's forms refuses hidden
    control characters, as the app's own forms do (agency names, plan titles, metrics)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        return require_printable(field) if field is not None else None


# Word's manual line break becomes a line break; every other hidden character goes.
_REPLACEMENTS = {"\x0b": "\n", "\x0c": "\n"}


def printable(text: str) -> str:
    """Text as a Word or Excel file can hold it, for text already in the database."""
    return UNPRINTABLE.sub(lambda found: _REPLACEMENTS.get(found.group(), ""), text)
