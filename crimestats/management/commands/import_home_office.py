from crimestats.models import Source

from ._importing import ImportCommand


class Command(ImportCommand):
    help = (
        "Import the Home Office police recorded crime open data table by Community Safety "
        "Partnership (.xlsx, .ods or .csv): the Kent districts' counts by financial quarter. "
        "Re-importing the same file changes nothing."
    )
    source = Source.HOME_OFFICE
    what = "Home Office table(s)"
