"""GOV.UK wording in templates: counts with thousands separators ("7,679")."""

from django import template

register = template.Library()


@register.filter
def thousands(value):
    """7679 → "7,679"; anything not a whole number is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return f"{value:,}"
