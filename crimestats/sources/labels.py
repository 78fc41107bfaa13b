"""Names as the sources spell them, made comparable.

Labels change spelling between editions ("Theft Offences" / "Theft offences", "Drug
offences" / "Drug Offences", "Miscellaneous crimes against society" / "Miscellaneous
crimes"); districts change names (Shepway became Folkestone and Hythe in 2018).
"""

import re

_SPACES = re.compile(r"\s+")
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " "})

# Normalised label → the normalised label it is another spelling of.
LABEL_ALIASES = {
    "miscellaneous crimes": "miscellaneous crimes against society",
    "misc crimes against society": "miscellaneous crimes against society",
}

# Normalised district name → the district's current name, for names a source still uses.
AREA_ALIASES = {
    "shepway": "Folkestone and Hythe",
    "folkestone & hythe": "Folkestone and Hythe",
}


def normalise(label: object) -> str:
    """ "  Theft  Offences " → "theft offences"; "&" reads as "and"; dashes are one dash."""
    text = _SPACES.sub(" ", str(label).translate(_DASHES)).strip().casefold()
    text = text.replace(" & ", " and ")
    return LABEL_ALIASES.get(text, text)


def tidy(label: object) -> str:
    """The label as published, with its whitespace collapsed."""
    return _SPACES.sub(" ", str(label).translate(_DASHES)).strip()


def category_key(label: str, code: str = "") -> str:
    """The natural key of a source category: its code (if any) and its normalised label."""
    code = tidy(code).upper()
    return f"{code}|{normalise(label)}" if code else normalise(label)


def area_index(areas) -> dict[str, object]:
    """Normalised name (and alias) → area, for matching the sources' district names."""
    index = {normalise(area.name): area for area in areas}
    for alias, name in AREA_ALIASES.items():
        area = index.get(normalise(name))
        if area is not None:
            index.setdefault(normalise(alias), area)
    return index
