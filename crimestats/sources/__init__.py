"""Importers for the public sources of crime figures.

- ``home_office``: the Home Office police recorded crime open data tables by Community
  Safety Partnership (xlsx, ods or csv; financial quarters per CSP and offence);
- ``police_uk``: data.police.uk street-level crime files (csv, or the zip of monthly
  folders the custom download gives; one row per crime, aggregated here per LSOA, month
  and crime type).

Each reads a whole upload into a ``Parsed`` aggregate first (nothing is written while
reading, so a bad row anywhere refuses the whole file); ``loading`` then compares it with
what is held and applies the difference in one transaction.
"""
