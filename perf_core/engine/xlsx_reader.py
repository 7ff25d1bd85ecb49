"""Read back what :mod:`.xlsx` wrote: cells with their type and number format.

A small reader of the SpreadsheetML parts (standard library only: ``zipfile`` and
ElementTree), so the engine tests, the Odoo tests and the benchmark check the file itself
rather than the writer's calls. It understands what xlsxwriter writes: inline and shared
strings, numbers, formulas, the styles' number formats, frozen panes, autofilters, column
widths. Not a general XLSX parser.
"""

import datetime
import io
import re
import xml.etree.ElementTree as ET
import zipfile

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
#: Built-in number formats xlsxwriter may reference by id.
_BUILTIN_FORMATS = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    9: "0%",
    10: "0.00%",
    14: "mm-dd-yy",
}
_EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
#: Excel's escape of characters XML cannot hold (``_x0001_``; ``_x005F_`` is ``_``).
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")


def _unescape(text):
    return _ESCAPED.sub(lambda match: chr(int(match.group(1), 16)), text)


class Cell:
    """``kind``: "string" (``t`` = inline or shared string), "number", "formula",
    "bool"; ``value``; ``num_format``: the cell's number format code."""

    __slots__ = ("ref", "kind", "value", "num_format")

    def __init__(self, ref, kind, value, num_format):
        self.ref = ref
        self.kind = kind
        self.value = value
        self.num_format = num_format

    def as_date(self):
        """The number of a date cell as a ``datetime``."""
        return _EXCEL_EPOCH + datetime.timedelta(days=float(self.value))

    def __repr__(self):
        return f"Cell({self.ref}, {self.kind}, {self.value!r}, {self.num_format!r})"


class SheetData:
    __slots__ = ("name", "rows", "frozen_rows", "autofilter", "widths")

    def __init__(self, name):
        self.name = name
        self.rows = []
        self.frozen_rows = 0
        self.autofilter = None
        self.widths = {}

    def values(self):
        return [[c.value if c is not None else None for c in row] for row in self.rows]


def read_workbook(source):
    """``source``: a path, bytes or a binary file. Returns the list of :class:`SheetData`."""
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    with zipfile.ZipFile(source) as archive:
        names = set(archive.namelist())
        shared = []
        if "xl/sharedStrings.xml" in names:
            root = ET.fromstring(archive.read("xl/sharedStrings.xml"))
            shared = [
                _unescape("".join(t.text or "" for t in si.iter(f"{{{_NS['m']}}}t"))) for si in root
            ]
        formats = _cell_formats(ET.fromstring(archive.read("xl/styles.xml")))
        rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(f"{_REL_NS}Relationship")}
        book = ET.fromstring(archive.read("xl/workbook.xml"))
        sheets = []
        for node in book.find("m:sheets", _NS):
            target = targets[node.get(f"{{{_NS['r']}}}id")]
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            sheets.append(_read_sheet(node.get("name"), archive.read(path), shared, formats))
        return sheets


def _cell_formats(styles):
    codes = dict(_BUILTIN_FORMATS)
    numfmts = styles.find("m:numFmts", _NS)
    if numfmts is not None:
        for fmt in numfmts:
            codes[int(fmt.get("numFmtId"))] = fmt.get("formatCode")
    xfs = styles.find("m:cellXfs", _NS)
    return [codes.get(int(xf.get("numFmtId", 0)), "General") for xf in xfs]


def _column_index(ref):
    letters = "".join(ch for ch in ref if ch.isalpha())
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch.upper()) - 64)
    return index - 1


def _read_sheet(name, xml, shared, formats):
    sheet = SheetData(name)
    root = ET.fromstring(xml)
    pane = root.find("m:sheetViews/m:sheetView/m:pane", _NS)
    if pane is not None and pane.get("state") == "frozen":
        sheet.frozen_rows = int(float(pane.get("ySplit", 0)))
    autofilter = root.find("m:autoFilter", _NS)
    if autofilter is not None:
        sheet.autofilter = autofilter.get("ref")
    cols = root.find("m:cols", _NS)
    if cols is not None:
        for col in cols:
            for index in range(int(col.get("min")) - 1, int(col.get("max"))):
                sheet.widths[index] = float(col.get("width"))
    m = _NS["m"]
    for row in root.iter(f"{{{m}}}row"):
        cells = []
        for c in row.iter(f"{{{m}}}c"):
            ref, kind_attr = c.get("r"), c.get("t")
            num_format = formats[int(c.get("s", 0))]
            formula = c.find("m:f", _NS)
            value_node = c.find("m:v", _NS)
            if formula is not None:
                cell = Cell(ref, "formula", formula.text, num_format)
            elif kind_attr == "inlineStr":
                text = _unescape("".join(t.text or "" for t in c.iter(f"{{{m}}}t")))
                cell = Cell(ref, "string", text, num_format)
            elif kind_attr == "s":
                cell = Cell(ref, "string", shared[int(value_node.text)], num_format)
            elif kind_attr == "b":
                cell = Cell(ref, "bool", value_node.text == "1", num_format)
            elif kind_attr == "str":
                cell = Cell(
                    ref, "formula", value_node.text if value_node is not None else "", num_format
                )
            elif value_node is not None:
                cell = Cell(ref, "number", float(value_node.text), num_format)
            else:
                continue  # a blank cell with only a style
            index = _column_index(ref)
            while len(cells) < index:
                cells.append(None)
            cells.append(cell)
        sheet.rows.append(cells)
    return sheet
