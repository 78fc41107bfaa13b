from crimestats.models import Source

from ._importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import data.police.uk street-level crime files (the custom download's .zip, or "
        "…-street.csv files): counts by LSOA, month and crime type. Re-importing the same "
        "files changes nothing."
    )
    source = Source.POLICE_UK
    what = "street-level files (.zip or .csv)"
