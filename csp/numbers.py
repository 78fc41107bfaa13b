"""Whole numbers as people type and print them: "7679" or "7,679".

One parser for every form that takes a count (a return's figures, a year's crime
figures, the crime-table CSV import), so "1,200" is accepted, or refused, everywhere alike.
"""

import re

PLAIN_NUMBER = re.compile(r"\d+")
GROUPED_NUMBER = re.compile(r"\d{1,3}(,\d{3})+")  # "7,679", as the assessment prints it
NEGATIVE_NUMBER = re.compile(r"-\s*(\d+|\d{1,3}(,\d{3})+)")
MAX_COUNT = 1_000_000  # far above any count a partnership reports; a typo guard, not a rule


def parse_count(text: str, what: str, maximum: int = MAX_COUNT) -> int:
    """A count as typed or printed ("7679" or "7,679"); ValueError with a message naming
    ``what`` (e.g. "The count of Robbery in 2022") otherwise."""
    text = text.strip()
    if PLAIN_NUMBER.fullmatch(text) or GROUPED_NUMBER.fullmatch(text):
        digits = text.replace(",", "").lstrip("0") or "0"
        if len(digits) > len(str(maximum)):  # before int(): 5,000 digits would raise
            raise ValueError(f"{what} must be {maximum:,} or fewer")
        count = int(digits)
    elif NEGATIVE_NUMBER.fullmatch(text):
        raise ValueError(f"{what} must be 0 or more")
    else:
        raise ValueError(f"{what} must be a whole number, like 1,234")
    if count > maximum:
        raise ValueError(f"{what} must be {maximum:,} or fewer")
    return count
