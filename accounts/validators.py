import re

from django.core.exceptions import ValidationError

# The partnership's own names are the first guesses an attacker tries.
PARTNERSHIP_WORDS = (
    "tunbridge",
    "wells",
    "kent",
    "twbc",
    "davss",
    "police",
    "lookahead",
    "community safety",
)
# Shorter names ("KCC", "CST") are too common inside ordinary passwords to refuse.
SHORTEST_NAME = 4


def squeeze(text: str) -> str:
    """Letters and digits only, lower case: "Look-Ahead_2024" and "look ahead" both
    contain "lookahead"."""
    return re.sub(r"[\W_]+", "", text.lower())


class PartnershipNameValidator:
    """Refuse passwords built on the partnership's own names or its agencies' names,
    however they are spaced, punctuated or capitalised."""

    def words(self) -> list[str]:
        from actions.models import Agency

        names = [*PARTNERSHIP_WORDS]
        for name, short_name in Agency.objects.values_list("name", "short_name"):
            names += [name, short_name]
        return sorted({squeeze(name) for name in names if len(squeeze(name)) >= SHORTEST_NAME})

    def validate(self, password, user=None):
        squeezed = squeeze(password)
        for word in self.words():
            if word in squeezed:
                raise ValidationError(
                    "Your password must not contain the name of the partnership or one of "
                    "its agencies, such as “%(word)s”.",
                    code="password_partnership_name",
                    params={"word": word},
                )

    def get_help_text(self):
        return "Your password must not contain the partnership’s or an agency’s name."
