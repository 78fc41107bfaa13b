"""The crime pages' tables as downloads (csp.exports writes them as CSV or Excel): the
same columns as on screen; counts, changes, percentages and rates as numbers, so a
spreadsheet can sum and chart them; county positions as printed ("=3", "--")."""

from csp.exports import Sheet


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
                row.percent_change,
                row.change,
                row.previous_position_display,
                row.position_display,
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
                point.percent_change,
                point.rate,
                point.position_display,
            ]
            for point in trend.points
        ],
    )
