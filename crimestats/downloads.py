"""The crime pages' tables as downloads (csp.exports writes them as CSV or Excel): the
same columns as on screen; counts, changes, percentages, rates and county positions as
numbers, so a spreadsheet can sum and chart them (csp.exports says how each is written)."""

from csp.exports import Percent, Position, Sheet


def position_cell(position) -> Position | None:
    """A stored CountyPosition as a download's cell: empty where none is held."""
    return None if position is None else Position(position.position, position.tied)


def crime_table_sheet(rows, year: int) -> Sheet:
    """The crime table as on screen: the same columns, counts and changes as numbers."""
    return Sheet(
        title=f"Crime statistics {year}",
        headers=[
            "Crime type",
            "This year",
            "Last year",
            "% change",
            "Number change",
            f"County position {year - 1}",
            f"County position {year}",
        ],
        rows=[
            [
                row.crime_type.label,
                row.this_year,
                row.last_year,
                Percent(row.percent_change),
                row.change,
                position_cell(row.previous_position),
                position_cell(row.position),
            ]
            for row in rows
        ],
    )


def trend_sheet(trend) -> Sheet:
    return Sheet(
        title=trend.crime_type.name,
        headers=[
            "Year",
            "Count",
            "Change on the year before",
            "% change",
            "Rate per 1,000 residents",
            "County position",
        ],
        rows=[
            [
                point.year,
                point.count,
                point.change,
                Percent(point.percent_change),
                point.rate,
                position_cell(point.position),
            ]
            for point in trend.points
        ],
    )
