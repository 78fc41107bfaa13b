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


MONEY = re.compile(r"(\d+|\d{1,3}(,\d{3})+)(\.\d{1,2})?")
PERCENTAGE = re.compile(r"\d{1,3}(\.\d)?")
MAX_MONEY_PENCE = 100_000_000_00  # £100 million: a typo guard for a district partnership


def parse_money(text: str, what: str, maximum: int = MAX_MONEY_PENCE) -> int:
    """Pounds as typed ("£1,250", "1250.5", "1,250.50"), in whole pence; ValueError with a
    message naming ``what`` otherwise."""
    text = text.strip().removeprefix("£").strip()
    if text.startswith("-"):
        raise ValueError(f"{what} must be £0 or more")
    if not MONEY.fullmatch(text):
        raise ValueError(f"{what} must be an amount in pounds, like £1,250 or £1,250.50")
    pounds, _, pence = text.replace(",", "").partition(".")
    pounds = pounds.lstrip("0") or "0"
    if len(pounds) > len(str(maximum // 100)):  # before int(): 5,000 digits would raise
        raise ValueError(f"{what} must be £{maximum // 100:,} or less")
    amount = int(pounds) * 100 + int((pence + "00")[:2])
    if amount > maximum:
        raise ValueError(f"{what} must be £{maximum // 100:,} or less")
    return amount


def parse_percentage(text: str, what: str) -> float:
    """A percentage from 0 to 100 with at most one decimal place ("82", "82.5", "82.5%");
    ValueError with a message naming ``what`` otherwise."""
    text = text.strip().removesuffix("%").strip()
    if text.startswith("-"):
        raise ValueError(f"{what} must be 0% or more")
    if not PERCENTAGE.fullmatch(text):
        if re.fullmatch(r"\d+\.\d{2,}", text):
            raise ValueError(f"{what} must have no more than one decimal place, like 82.5")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            raise ValueError(f"{what} must be 100% or less")
        raise ValueError(f"{what} must be a percentage, like 82.5")
    value = float(text)
    if value > 100:
        raise ValueError(f"{what} must be 100% or less")
    return int(value) if value == int(value) else value


def format_money(pence: int) -> str:
    pounds, rest = divmod(int(pence), 100)
    return f"£{pounds:,}" if rest == 0 else f"£{pounds:,}.{rest:02d}"


def format_percentage(value) -> str:
    return f"{float(value):,.1f}".removesuffix(".0") + "%"
