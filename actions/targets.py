"""A return's figures against their targets, and against the agency's own trend.

Pure arithmetic, no queries: the return form, Check your answers, the services that save a
return and the review page all ask it, so the suggested RAG and its words are worked out in
one place. Values are as a return stores them: counts as whole numbers, percentages as
numbers from 0 to 100, money in pence (a metric's target is in the same unit).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from csp.numbers import format_money, format_percentage

from .models import Metric, QuarterlyReturn
from .states import RAG_SEVERITY_ORDER

RAG = QuarterlyReturn.RAG
Kind = Metric.Kind
# "Far from the trend": a tenth, or ten times, the average of the quarters before.
OUTLIER_FACTOR = 10
# How many earlier quarters the form shows beside each input.
QUARTERS_BEFORE = 4


def format_value(metric: Metric, value) -> str:
    """A stored value as people read it: "1,200", "82.5%", "£1,250.50", "Yes"."""
    if value is None or value == "":
        return "Not given"
    if metric.kind == Kind.COUNT and isinstance(value, int):
        return f"{value:,}"
    if metric.kind == Kind.MONEY and isinstance(value, int):
        return format_money(value)
    if metric.kind == Kind.PERCENTAGE and isinstance(value, int | float):
        return format_percentage(value)
    if metric.kind == Kind.YES_NO:
        return {"yes": "Yes", "no": "No"}.get(value, str(value))
    return str(value)


def format_target(metric: Metric, amount) -> str:
    """A target or a sum in the metric's unit; counts and pence rounded to whole ones."""
    if metric.kind == Kind.PERCENTAGE:
        return format_percentage(amount)
    whole = int(Decimal(amount).to_integral_value())
    return format_money(whole) if metric.kind == Kind.MONEY else f"{whole:,}"


def _number(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(str(value))


def _percent(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.1'))}".removesuffix(".0") + "%"


@dataclass(frozen=True)
class Assessment:
    """One metric's figure against its target."""

    metric: Metric
    rag: str
    words: str


@dataclass(frozen=True)
class Suggestion:
    """The RAG the figures suggest: the worst of the metrics' (actions.states' rule)."""

    assessments: list[Assessment] = field(default_factory=list)

    @property
    def rag(self) -> str:
        """Blank when no figure has a target: the RAG is then the partner's alone."""
        if not self.assessments:
            return ""
        return max(self.assessments, key=lambda a: RAG_SEVERITY_ORDER[a.rag]).rag

    @property
    def rag_label(self) -> str:
        return RAG(self.rag).label if self.rag else ""

    @property
    def words(self) -> str:
        return "; ".join(a.words for a in self.assessments)


def assess(metric: Metric, quarter_number: int, value, earlier: list) -> Assessment | None:
    """``value`` (this quarter's) against the metric's target, or None where there is no
    target or no figure. ``earlier`` holds the approved values of the plan's quarters before
    this one, which a year's target adds up (percentages, being rates, are not added)."""
    actual = _number(value)
    if not metric.has_target or actual is None:
        return None
    target = Decimal(metric.target)
    yearly = metric.target_period == Metric.TargetPeriod.YEAR
    if yearly and metric.kind != Kind.PERCENTAGE:
        actual += sum((n for n in (_number(v) for v in earlier) if n is not None), start=Decimal(0))
        # By Q2, half the year's target; an annual metric (asked in Q4) the whole of it.
        expected = target * quarter_number / 4
        when = f"by Q{quarter_number}"
        if quarter_number < 4:
            when += f" (the year's {format_target(metric, target)}, pro rata)"
    else:
        expected = target
        when = f"in Q{quarter_number}"

    higher = metric.target_direction == Metric.Direction.HIGHER
    tolerance = Decimal(metric.amber_tolerance)
    shown = format_target(metric, actual)
    if metric.kind == Kind.PERCENTAGE or not higher:
        against = f"{shown} against {'' if higher else 'at most '}{format_target(metric, expected)}"
    else:
        against = f"{shown} of {format_target(metric, expected)}"

    if expected == 0:
        # Nothing expected yet: anything meets a "higher" target; a "lower" one of nothing
        # is met only by nothing.
        rag = RAG.GREEN if higher or actual == 0 else RAG.RED
        return Assessment(metric, rag, f"{against} {when}: {RAG(rag).label.lower()}")

    ratio = actual / expected * 100
    if higher:
        floor = 100 - tolerance
        if ratio >= 100:
            rag, band = RAG.GREEN, "at 100% or more"
        elif ratio >= floor:
            rag, band = RAG.AMBER, f"from {_percent(floor)} to under 100%"
        else:
            rag, band = RAG.RED, f"below {_percent(floor)}"
    else:
        ceiling = 100 + tolerance
        if ratio <= 100:
            rag, band = RAG.GREEN, "at 100% or less"
        elif ratio <= ceiling:
            rag, band = RAG.AMBER, f"over 100% up to {_percent(ceiling)}"
        else:
            rag, band = RAG.RED, f"above {_percent(ceiling)}"
    words = f"{against} {when}: {_percent(ratio)}, {RAG(rag).label.lower()} {band}"
    return Assessment(metric, rag, words)


def suggest(metrics, quarter_number: int, values: dict, earlier: dict) -> Suggestion:
    """The suggested RAG for a return's ``values`` (metric id → value) in the quarter;
    ``earlier`` is metric id → the approved values of the plan's quarters before it."""
    assessments = []
    for metric in metrics:
        key = str(metric.pk)
        found = assess(metric, quarter_number, values.get(key), earlier.get(key, []))
        if found is not None:
            assessments.append(found)
    return Suggestion(assessments)


def is_outlier(value, before: list) -> bool:
    """A tenth or less, or ten times or more, of the average of the quarters before."""
    actual = _number(value)
    numbers = [n for n in (_number(v) for v in before) if n is not None]
    if actual is None or not numbers:
        return False
    average = sum(numbers) / len(numbers)
    if average <= 0:
        return False
    return actual <= average / OUTLIER_FACTOR or actual >= average * OUTLIER_FACTOR


def outlier_question(metric: Metric, value, before: list) -> str:
    """ "Is 7 right? The quarters before: 77, 80, 75." """
    shown = ", ".join(format_value(metric, v) for v in before if _number(v) is not None)
    return f"Is {format_value(metric, value)} right? The quarters before: {shown}."


def trends(returns) -> dict[str, list[tuple]]:
    """Metric id → (quarter, value) for each of ``returns`` (oldest first) that reported
    it, the last QUARTERS_BEFORE of them."""
    found: dict[str, list[tuple]] = {}
    for quarterly_return in returns:
        for key, value in quarterly_return.values.items():
            found.setdefault(key, []).append((quarterly_return.quarter, value))
    return {key: pairs[-QUARTERS_BEFORE:] for key, pairs in found.items()}


def earlier_values(trend: dict[str, list[tuple]]) -> dict[str, list]:
    return {key: [value for _, value in pairs] for key, pairs in trend.items()}


def target_summary(metric: Metric) -> str:
    """ "Target 200 for the year, higher is better, amber within 10%"; empty without one."""
    if not metric.has_target:
        return ""
    period = "for the year" if metric.target_period == Metric.TargetPeriod.YEAR else "each quarter"
    if metric.kind == Kind.PERCENTAGE and metric.target_period == Metric.TargetPeriod.YEAR:
        period = "by the year's end"
    direction = metric.get_target_direction_display().lower()
    return (
        f"Target {format_target(metric, metric.target)} {period}, {direction}, "
        f"amber within {metric.amber_tolerance}%"
    )
