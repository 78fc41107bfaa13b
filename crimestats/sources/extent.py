"""How far a spreadsheet reaches, found before it is read.

python-calamine builds each sheet as one grid from its first cell to its last, 32 bytes a
cell, whatever lies between: one cell at XFD1048576 asks for 16,384 × 1,048,576 cells
(512 GB) and the process aborts; GR1048576 asks for 6.7 GB. So, before calamine sees an
.xlsx or .ods file, its XML is streamed once (at most ``Limits.unpacked_bytes``, already
checked by ``files.open_zip``) and every cell holding a value is placed, as calamine would
place it, against ``Limits.rows`` and ``Limits.columns``. An .xlsx sheet's declared
``<dimension ref=…>`` is held to the same limits.

Scanning every cell in Python would double the time a large table takes to import, so
cell references written the usual way (``<c r="B12"``, as Excel, LibreOffice and openpyxl
write them) are matched by a pattern that only picks out references at or past the limits'
leading digit and letter (for 250,000 rows: row 200,000 and on); only those are worked out.
A sheet with any other kind of cell (no reference, a namespace prefix, other attributes or
quotes first) is placed cell by cell instead. Whatever this scan misses still meets the
memory budget of the child process that reads the file (``budget``).
"""

import re
import zipfile

from .files import UNREADABLE, Limits, Refused, Upload

CHUNK = 4 * 1024 * 1024
LONGEST_TAG = 1024 * 1024  # a tag longer than this is not a spreadsheet's
_NAME = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix
_ODD_CELL = re.compile(rb'<c(?! r=")[\s/>]')  # a cell not written <c r="…
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_DIMENSION = re.compile(_NAME + rb"dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_TAG = re.compile(rb"<" + _NAME + rb"(row|c)(?=[\s/>])([^>]*)>")
_REF_ATTR = re.compile(rb"(?:^|\s)r\s*=\s*[\"']\s*([A-Za-z]*)([0-9]*)")
_ODS_TAG = re.compile(
    rb"<(/?)" + _NAME + rb"(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*)>"
)
_ODS_ROWS = re.compile(rb"number-rows-repeated\s*=\s*[\"']\s*([0-9]+)")
_ODS_COLUMNS = re.compile(rb"number-columns-repeated\s*=\s*[\"']\s*([0-9]+)")
_ODS_VALUE = re.compile(rb"value-type\s*=")
_ODS_NAME = re.compile(rb"\bname\s*=\s*[\"']([^\"']*)[\"']")


def column_number(letters: bytes | str) -> int:
    """A → 1, Z → 26, AA → 27, XFD → 16,384 (either case, as calamine reads them)."""
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check(upload: Upload, archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a zipped spreadsheet calamine would read as anything but .xlsx or .ods, or any
    of whose sheets reaches past the limits."""
    names = set(archive.namelist())
    if "xl/workbook.bin" in names:
        raise Refused(
            f"{upload.name} is an Excel binary workbook (.xlsb), which is not read here. "
            "Open it in Excel and save it as .xlsx."
        )
    if "xl/workbook.xml" not in names and "content.xml" not in names:
        raise Refused(
            f"{upload.name} is a zip archive but not an .xlsx or .ods spreadsheet. Upload the "
            "Home Office table as downloaded (.xlsx or .ods)."
        )
    scan = Scan(upload.name, limits)
    # calamine tries .xlsx first and .ods after it; a file that has the parts of both is
    # scanned as both. Every part of an .xlsx is scanned: a sheet may be named anything.
    for part in archive.infolist():
        if "xl/workbook.xml" in names and not part.is_dir():
            scan.xlsx_part(archive, part)
        if part.filename == "content.xml":
            scan.ods_content(archive, part)


def chunks(archive: zipfile.ZipFile, part: zipfile.ZipInfo, name: str):
    """The part's text in pieces that end before a ``<``, so no tag is cut in two (unless
    one tag is longer than ``LONGEST_TAG``: then it is scanned as far as it goes)."""
    carry = b""
    try:
        with archive.open(part) as stream:
            while block := stream.read(CHUNK):
                data = carry + block
                cut = data.rfind(b"<")
                if cut == -1:  # no tag begins here
                    carry = b""
                elif cut == 0 and len(data) <= LONGEST_TAG:
                    carry = data
                elif cut == 0:
                    carry = b""
                    yield data
                else:
                    carry = data[cut:]
                    yield data[:cut]
    except UNREADABLE as error:
        raise Refused(f"{name} is not a readable zip archive ({error}).") from error
    if carry:
        yield carry


class Scan:
    def __init__(self, name: str, limits: Limits):
        self.name = name
        self.rows = limits.rows
        self.columns = limits.columns
        row_pattern, column_pattern = at_or_past(limits.rows), letters_at_or_past(limits.columns)
        # References whose row or column may be past the limits: the rest certainly are not.
        self.far = re.compile(
            rb'<c r="((?:' + column_pattern + rb")[0-9]+|[A-Za-z]+(?:" + row_pattern + rb'))"'
        )

    def refuse(self, where: str, row: int, column: int):
        raise Refused(
            f"{self.name} has a cell at {where}, beyond the {self.rows:,} rows and "
            f"{self.columns} columns (A to {column_letters(self.columns)}) a sheet may use "
            f"here (row {row:,}, column {column:,}). Delete what lies outside the table, or "
            "copy the table into a new spreadsheet, and upload that. Nothing was read."
        )

    def place(self, where: str, row: int, column: int) -> None:
        if row > self.rows or column > self.columns:
            self.refuse(where, row, column)

    # .xlsx -------------------------------------------------------------------------------

    def xlsx_part(self, archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
        first = True
        for data in chunks(archive, part, self.name):
            if first:
                first = False
                self.dimension(data, part.filename)
            if _ODD_CELL.search(data) or _PREFIXED_CELL.search(data):
                self.xlsx_part_cell_by_cell(archive, part)
                return
            for match in self.far.finditer(data):
                end = data.find(b">", match.end())
                if end > 0 and data[end - 1] == ord("/"):
                    continue  # <c r="…" s="3"/>: formatted but empty; calamine skips it
                letters, digits = split_reference(match.group(1))
                self.place(match.group(1).decode(), int(digits), column_number(letters))

    def dimension(self, data: bytes, part_name: str) -> None:
        match = _DIMENSION.search(data, 0, 64 * 1024)
        if not match:
            return
        last = match.group(1).split(b":")[-1]
        letters, digits = split_reference(last.replace(b"$", b""))
        if (
            letters
            and digits
            and (int(digits) > self.rows or column_number(letters) > self.columns)
        ):
            raise Refused(
                f"{self.name} declares a sheet of {match.group(1).decode(errors='replace')}, "
                f"beyond the {self.rows:,} rows and {self.columns} columns (A to "
                f"{column_letters(self.columns)}) a sheet may use here. Delete what lies "
                "outside the table, or copy the table into a new spreadsheet, and upload "
                "that. Nothing was read."
            )

    def xlsx_part_cell_by_cell(self, archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
        """Place every cell as calamine does: by its reference, or else one column to the
        right of the cell before it, in the row its row element gives (or the next)."""
        row = column = 0
        for data in chunks(archive, part, self.name):
            for match in _TAG.finditer(data):
                kind, attributes = match.groups()
                reference = _REF_ATTR.search(attributes)
                if kind == b"row":
                    digits = reference.group(2) if reference else b""
                    row = int(digits) if digits else row + 1
                    column = 0
                    continue
                letters, digits = reference.groups() if reference else (b"", b"")
                column = column_number(letters) if letters else column + 1
                cell_row = int(digits) if digits else row
                if not attributes.rstrip().endswith(b"/"):
                    self.place(f"{column_letters(column)}{cell_row}", cell_row, column)

    # .ods --------------------------------------------------------------------------------

    def ods_content(self, archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> None:
        """Place every cell holding something, counting repeated rows and columns (an .ods
        file says "this row 1,000,000 times" in a few bytes)."""
        sheet = ""
        row = 0  # rows before the current one
        row_repeat = 1
        column = 0
        for data in chunks(archive, part, self.name):
            for match in _ODS_TAG.finditer(data):
                closing, kind, attributes = match.groups()
                empty_element = attributes.rstrip().endswith(b"/")
                if kind == b"table":
                    if not closing:
                        name = _ODS_NAME.search(attributes)
                        sheet = name.group(1).decode(errors="replace") if name else ""
                        row = 0
                elif kind == b"table-row":
                    if closing:
                        row += row_repeat
                        continue
                    repeat = _ODS_ROWS.search(attributes)
                    row_repeat = int(repeat.group(1)) if repeat else 1
                    column = 0
                    if empty_element:
                        row += row_repeat
                elif not closing:
                    repeat = _ODS_COLUMNS.search(attributes)
                    columns = int(repeat.group(1)) if repeat else 1
                    holds_something = not empty_element or _ODS_VALUE.search(attributes)
                    column += columns
                    if holds_something and (row + row_repeat > self.rows or column > self.columns):
                        raise Refused(
                            f"{self.name}: sheet “{sheet}” has values as far as row "
                            f"{row + row_repeat:,}, column {column:,} (rows and cells repeated), "
                            f"beyond the {self.rows:,} rows and {self.columns} columns a sheet "
                            "may use here. Delete what lies outside the table, or copy the "
                            "table into a new spreadsheet, and upload that. Nothing was read."
                        )


def split_reference(reference: bytes) -> tuple[bytes, bytes]:
    letters = reference.rstrip(b"0123456789")
    return letters, reference[len(letters) :]


def at_or_past(limit: int) -> bytes:
    """A pattern for the digits of every number at or above ``limit``'s leading digit
    (for 250,000: 200,000 and over), leading zeros allowed."""
    text = str(limit)
    width, lead = len(text), text[0]
    return (
        rb"0*(?:[" + lead.encode() + rb"-9][0-9]{" + str(width - 1).encode() + rb"}"
        rb"|[1-9][0-9]{" + str(width).encode() + rb",})"
    )


def letters_at_or_past(limit: int) -> bytes:
    """A pattern for every column reference from ``limit``'s first letter on (for 64, BL:
    BA and on), either case."""
    text = column_letters(limit)
    width, lead = len(text), text[0]
    return (
        rb"["
        + lead.encode()
        + rb"-Z"
        + lead.lower().encode()
        + rb"-z][A-Za-z]{"
        + str(width - 1).encode()
        + rb"}|[A-Za-z]{"
        + str(width + 1).encode()
        + rb",}"
    )
