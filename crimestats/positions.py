"""County positions: the one place that says how they are printed, read and ranked.

A position is printed as the strategic assessment prints it: "1", "=3" for a position
shared with another district, "--" where none was published or none could be computed.
Districts are ranked by rate per 1,000 residents, lowest first, by standard competition
ranking (1, =2, =2, 4), comparing rates as displayed, to 2 decimal places.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

NO_POSITION = {"--", "-", "–", "—", ""}  # as printed, and what a word processor makes of it
RATE_PLACES = Decimal("0.01")


class Position(NamedTuple):
    position: int | None
    tied: bool

    @property
    def display(self) -> str:
        return display(self.position, self.tied)


def display(position: int | None, tied: bool = False) -> str:
    if position is None:
        return "--"
    return f"={position}" if tied else str(position)


def parse(text: str) -> Position:
    """The inverse of display: "=3" → (3, True), "--" → (None, False); ValueError otherwise."""
    text = text.strip()
    if text in NO_POSITION:
        return Position(None, False)
    tied = text.startswith("=")
    number = text[1:] if tied else text
    if not number.isascii() or not number.isdigit():
        raise ValueError(f"{text!r} is not a county position.")
    if int(number) < 1:
        raise ValueError("A county position is 1 or more.")
    return Position(int(number), tied)


def as_displayed(rate) -> Decimal:
    """A rate as the tables print it, to 2 decimal places, half away from zero."""
    return Decimal(str(rate)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def rank(rates: dict) -> dict:
    """Key → Position by standard competition ranking, lowest rate first, rates compared
    as displayed; keys with no rate have no position."""
    shown = {key: as_displayed(rate) for key, rate in rates.items() if rate is not None}
    values = sorted(shown.values())
    positions = {}
    for key, rate in shown.items():
        below = sum(1 for value in values if value < rate)
        same = sum(1 for value in values if value == rate)
        positions[key] = Position(below + 1, same > 1)
    return positions


def differs(entered: Position | None, computed: Position | None) -> bool:
    """A position entered by hand disagrees with the computed one. Where none could be
    computed (a period not fully imported) there is nothing to disagree with."""
    if entered is None or computed is None or computed.position is None:
        return False
    return display(*entered) != display(*computed)
