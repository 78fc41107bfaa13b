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
    "look ahead",
    "community safety",
)


class PartnershipNameValidator:
    """Refuse passwords built on the partnership's own names or its agencies' names."""

    def words(self) -> list[str]:
        from actions.models import Agency

        names = list(Agency.objects.values_list("name", "short_name"))
        agency_words = {part.lower() for pair in names for part in pair if len(part) >= 4}
        return [*PARTNERSHIP_WORDS, *agency_words]

    def validate(self, password, user=None):
        lowered = password.lower()
        for word in self.words():
            if word in lowered:
                raise ValidationError(
                    "Your password must not contain the name of the partnership or one of "
                    "its agencies, such as “%(word)s”.",
                    code="password_partnership_name",
                    params={"word": word},
                )

    def get_help_text(self):
        return "Your password must not contain the partnership’s or an agency’s name."
