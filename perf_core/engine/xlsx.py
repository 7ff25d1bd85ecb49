"""XLSX exports in constant memory: typed cells, no formula or URL injection.

:func:`write_workbook` writes one or more sheets into a file with xlsxwriter's
``constant_memory`` mode: each row goes to disk as soon as the next one starts, so the memory
used does not grow with the number of rows. Rows come from an iterable of *batches* (lists of
rows): a tool result is one batch (:func:`list_batches`), a SQL source is read with a
server-side cursor (:func:`cursor_batches`), one ``FETCH`` of ``itersize`` rows at a time.

Contract of a sheet (:class:`Sheet`):

- ``columns``: the header; ``kinds`` maps a column to one of :data:`KINDS` (missing: text);
- text cells are always written with ``write_string`` (and the workbook refuses to turn
  strings into formulas or URLs): a product named ``=HYPERLINK(...)`` stays that text;
- dates are real dates with a date format, money has the currency in its number format,
  quantities, integers and percentages their own formats; ``percent`` values are percentage
  points (``12.5`` is 12.5 %), as the tools' ``*_pct`` columns are;
- the header row is frozen and carries an autofilter; widths come from the header and the
  first batch;
- an empty sheet is a valid sheet with its header row.

A workbook holds at most ``max_rows`` data rows over all its sheets: one more raises
:class:`RowCapExceeded` (the caller removes the partial file; :func:`export_to_tempfile` does).

No ``odoo`` import: the Odoo layer passes plain values and a DB-API connection.
"""

import contextlib
import datetime
import decimal
import os
import re
import tempfile
import uuid

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

#: Column kinds of ``meta["column_types"]``.
KINDS = ("date", "money", "quantity", "percent", "int", "id", "text")
#: Rows of a sheet below its header: Excel's limit is 1,048,576 rows per sheet.
SHEET_MAX_ROWS = 1048575
#: Rows fetched per round trip by :func:`cursor_batches`.
DEFAULT_ITERSIZE = 2000
#: Excel's limits on sheet names and cell text.
SHEET_NAME_MAX = 31
CELL_TEXT_MAX = 32767
#: Column widths (characters) the first batch may give.
MIN_WIDTH, MAX_WIDTH = 6, 60
#: Number formats, by column kind (money is built per currency, see :func:`money_format`).
FORMATS = {
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm:ss",
    "quantity": "#,##0.00",
    "percent": "0.00%",
    "int": "#,##0",
    "id": "0",
}
#: Widths of the formatted values of non-text kinds (a date is ``2024-03-10``).
_KIND_WIDTHS = {"date": 10, "datetime": 19, "id": 8, "percent": 9}
#: What a sheet name may not contain in Excel.
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


class ExportError(ValueError):
    """Bad input to the writer (an unknown column kind, no columns)."""


class RowCapExceeded(ExportError):
    """The workbook would hold more than ``cap`` data rows."""

    def __init__(self, cap):
        super().__init__(f"the export has more than {cap} rows (the export row limit)")
        self.cap = cap


class Currency:
    """How money cells show their currency: ``label`` (a symbol such as ``€`` or a name
    such as ``EUR``), before or after the amount, with ``digits`` decimals."""

    __slots__ = ("label", "position", "digits")

    def __init__(self, label="", position="after", digits=2):
        if position not in ("before", "after"):
            raise ExportError(f"currency position must be 'before' or 'after', not {position!r}")
        if not isinstance(digits, int) or not 0 <= digits <= 6:
            raise ExportError(f"currency digits must be an integer 0..6, not {digits!r}")
        self.label = str(label or "")
        self.position = position
        self.digits = digits


def money_format(currency):
    """The Excel number format of money in ``currency`` (``None``: plain two decimals)."""
    currency = currency or Currency()
    number = "#,##0" + ("." + "0" * currency.digits if currency.digits else "")
    if not currency.label:
        return number
    # Quoted literal: a currency label is text inside the format, never format codes.
    label = '"' + currency.label.replace('"', "") + '"'
    if currency.position == "before":
        return f"{label} {number};-{label} {number}"
    return f"{number} {label};-{number} {label}"


class Sheet:
    """One sheet: ``name``, ``columns`` (header), ``kinds`` ({column: kind}) and ``batches``
    (an iterable of lists of rows, each row a sequence in column order)."""

    __slots__ = ("name", "columns", "kinds", "batches", "currency")

    def __init__(self, name, columns, batches, kinds=None, currency=None):
        self.name = name
        self.columns = [str(c) for c in columns]
        self.kinds = [_kind((kinds or {}).get(c)) for c in columns]
        self.batches = batches
        self.currency = currency


class ExportStats:
    """What a write did: rows per sheet, batches, file size."""

    __slots__ = ("rows", "sheets", "batches", "size")

    def __init__(self):
        self.rows = 0
        self.sheets = []
        self.batches = 0
        self.size = 0


def _kind(kind):
    if kind in (None, "", False):
        return "text"
    if kind not in KINDS:
        raise ExportError(f"unknown column kind {kind!r} (expected one of {', '.join(KINDS)})")
    return kind


# ----------------------------------------------------------------------------------------------
# Sources of batches
# ----------------------------------------------------------------------------------------------


def list_batches(rows, size=DEFAULT_ITERSIZE):
    """A list of rows (a tool result) as batches of ``size`` rows."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def cursor_batches(connection, query, params=None, itersize=DEFAULT_ITERSIZE, stats=None):
    """Rows of ``query`` read through a server-side (named) cursor, ``itersize`` at a time.

    ``connection`` is a psycopg2 connection inside a transaction (Odoo's ``cr._cnx``): the
    named cursor lives in that transaction, so it sees its uncommitted writes and its record
    rules' SQL. One statement is executed whatever the size; each batch is one ``FETCH``
    round trip. ``stats`` (a dict), when given, counts ``statements`` and ``fetches``.
    """
    name = f"perf_export_{uuid.uuid4().hex[:12]}"
    with connection.cursor(name=name) as cursor:
        cursor.itersize = itersize
        cursor.execute(query, params)
        if stats is not None:
            stats["statements"] = stats.get("statements", 0) + 1
        while True:
            rows = cursor.fetchmany(itersize)
            if stats is not None:
                stats["fetches"] = stats.get("fetches", 0) + 1
            if not rows:
                return
            yield rows


# ----------------------------------------------------------------------------------------------
# Sheet names
# ----------------------------------------------------------------------------------------------


def sheet_name(name, used):
    """A valid, unique Excel sheet name for ``name``; ``used`` (a set of lower-cased names)
    is updated. Forbidden characters become ``_``, names are cut to 31 characters, and a
    duplicate gets `` (2)``, `` (3)``..."""
    base = _SHEET_NAME_BAD.sub("_", str(name or "")).strip().strip("'") or "Sheet"
    base = base[:SHEET_NAME_MAX]
    candidate, number = base, 1
    while candidate.lower() in used:
        number += 1
        suffix = f" ({number})"
        candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------


def workbook_options(tmpdir=None):
    """xlsxwriter options: constant memory, and strings never turned into formulas, URLs
    or numbers (the cells are written with typed ``write_*`` calls anyway)."""
    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "remove_timezone": True,
    }
    if tmpdir:
        options["tmpdir"] = tmpdir
    return options


class _Formats:
    def __init__(self, book):
        self.book = book
        self.header = book.add_format({"bold": True, "bottom": 1})
        self.by_kind = {k: book.add_format({"num_format": f}) for k, f in FORMATS.items()}
        for fmt in self.by_kind.values():
            fmt._get_xf_index()  # fixed now: rows written by _RowStream refer to them
        self._money = {}

    def money(self, currency):
        code = money_format(currency)
        if code not in self._money:
            self._money[code] = self.book.add_format({"num_format": code})
        return self._money[code]


def write_workbook(target, sheets, max_rows=None, progress=None, tmpdir=None):
    """Write ``sheets`` (:class:`Sheet`) into ``target`` (a path or a binary file object).

    ``max_rows`` caps the data rows of the whole workbook (:class:`RowCapExceeded`);
    ``progress(rows_written)`` is called after every batch. Returns :class:`ExportStats`.
    """
    cap = min(max_rows, SHEET_MAX_ROWS) if max_rows else SHEET_MAX_ROWS
    stats = ExportStats()
    book = xlsxwriter.Workbook(target, workbook_options(tmpdir))
    try:
        formats = _Formats(book)
        used = set()
        for sheet in sheets:
            written = _write_sheet(book, formats, sheet, used, cap, stats, progress)
            stats.sheets.append(written)
    finally:
        book.close()
    if isinstance(target, str):
        stats.size = os.path.getsize(target)
    return stats


def _write_sheet(book, formats, sheet, used, cap, stats, progress):
    if not sheet.columns:
        raise ExportError(f"sheet {sheet.name!r} has no columns")
    worksheet = book.add_worksheet(sheet_name(sheet.name, used))
    ncols = len(sheet.columns)
    for col, name in enumerate(sheet.columns):
        worksheet.write_string(0, col, name, formats.header)
    worksheet.freeze_panes(1, 0)
    cell_formats = dict(formats.by_kind)
    cell_formats["money"] = formats.money(sheet.currency)
    converters = [_CONVERTERS[k] for k in sheet.kinds]
    writer = None
    if _RowStream.supported(worksheet):
        writer = _RowStream(worksheet, sheet.kinds, cell_formats)
    widths = [len(name) + 2 for name in sheet.columns]  # room for the filter button
    row_no = 0
    first = True
    for batch in sheet.batches:
        stats.batches += 1
        if stats.rows + len(batch) > cap or row_no + len(batch) > SHEET_MAX_ROWS:
            raise RowCapExceeded(min(cap, SHEET_MAX_ROWS))
        if writer is not None:
            writer.put_rows(row_no, batch)
            row_no += len(batch)
        else:
            for row in batch:
                row_no += 1
                cells = [
                    None if value is None else convert(value)
                    for convert, value in zip(converters, _pad(row, ncols), strict=True)
                ]
                _write_cells(worksheet, row_no, cells, cell_formats)
        if first and batch:
            _measure(batch, sheet.kinds, widths, sheet.currency)
        first = False
        stats.rows += len(batch)
        if progress is not None:
            progress(stats.rows)
    if writer is not None:
        writer.finish(row_no)
    for col, width in enumerate(widths):
        worksheet.set_column(col, col, max(MIN_WIDTH, min(MAX_WIDTH, width)))
    worksheet.autofilter(0, 0, row_no, ncols - 1)
    return row_no


def _pad(row, ncols):
    row = list(row)
    if len(row) < ncols:
        row.extend([None] * (ncols - len(row)))
    return row[:ncols]


def _measure(batch, kinds, widths, currency):
    """Widen the columns to the first batch's values (as shown, roughly)."""
    for col, kind in enumerate(kinds):
        if kind in _KIND_WIDTHS:
            widths[col] = max(widths[col], _KIND_WIDTHS[kind] + 1)
            continue
        longest = 0
        for row in batch:
            value = row[col] if col < len(row) else None
            if value is None:
                continue
            if kind == "text":
                longest = max(longest, len(str(value)))
            else:
                number = _number(value)
                longest = max(longest, len(f"{number:,.2f}") if number is not None else 0)
        if kind == "money" and currency is not None:
            longest += len(currency.label) + 1
        widths[col] = max(widths[col], longest + 1)


# ----------------------------------------------------------------------------------------------
# Cells: every value becomes a number with a format key, or a text
# ----------------------------------------------------------------------------------------------

#: Excel's day 0 (for dates from 1900-03-01 on, past its 1900 leap-year bug).
_EXCEL_EPOCH = datetime.datetime(1899, 12, 30)
_FIRST_SERIAL_DATE = datetime.date(1900, 3, 1)


def _number(value):
    kind = type(value)
    if kind is float or kind is int:
        number = value
    elif kind is bool:
        return None
    elif isinstance(value, (int, float)):
        number = value
    elif isinstance(value, decimal.Decimal):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number


def _text(value):
    text = value if isinstance(value, str) else str(value)
    return (text[:CELL_TEXT_MAX], None)


def _numeric(key):
    def convert(value):
        number = _number(value)
        return _text(value) if number is None else (number, key)

    return convert


def _percent(value):
    number = _number(value)
    return _text(value) if number is None else (number / 100.0, "percent")


def _date(value):
    parsed = value
    if isinstance(value, str):
        try:
            if len(value) <= 10:
                parsed = datetime.date.fromisoformat(value)
            else:
                parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            return _text(value)
    if isinstance(parsed, datetime.datetime):
        parsed = parsed.replace(tzinfo=None)
        if parsed.date() < _FIRST_SERIAL_DATE:
            return _text(parsed.isoformat(sep=" "))
        delta = parsed - _EXCEL_EPOCH
        serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400.0
        return (serial, "datetime" if parsed.time() != datetime.time(0) else "date")
    if isinstance(parsed, datetime.date):
        if parsed < _FIRST_SERIAL_DATE:
            return _text(parsed.isoformat())
        return ((parsed - _EXCEL_EPOCH.date()).days, "date")
    return _text(value)


_CONVERTERS = {
    "text": _text,
    "money": _numeric("money"),
    "quantity": _numeric("quantity"),
    "int": _numeric("int"),
    "id": _numeric("id"),
    "percent": _percent,
    "date": _date,
}


def _write_cells(worksheet, row_no, cells, cell_formats):
    """Through xlsxwriter's public API (when :class:`_RowStream` cannot be used)."""
    for col, cell in enumerate(cells):
        if cell is None:
            continue
        value, key = cell
        if key is None:
            worksheet.write_string(row_no, col, value)
        else:
            worksheet.write_number(row_no, col, value, cell_formats[key])


#: What xlsxwriter escapes in constant-memory strings (control characters, ``_xHHHH_``).
_ESCAPE_NEEDED = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_ESCAPE_CODES = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL_CHARS = re.compile("([\x00-\x08\x0b-\x1f])")
_EDGE_SPACE = re.compile(r"^\s|\s$")


def _xml_text(text):
    if _ESCAPE_NEEDED.search(text):
        text = _ESCAPE_CODES.sub(r"_x005F\1", text)
        text = _CONTROL_CHARS.sub(lambda match: f"_x{ord(match.group(1)):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


class _RowStream:
    """Whole batches of rows written straight into the worksheet's constant-memory row file.

    xlsxwriter's per-cell calls cost most of an export's time; this writes the same
    SpreadsheetML (``<c>`` number cells with their style index, inline strings escaped,
    never a formula) and keeps xlsxwriter's bookkeeping right (the pending header row is
    flushed first, the dimensions and last row are set at the end), so everything else
    (header, column widths, autofilter, panes) still goes through its API. Text is always
    escaped, including the ``<r>...</r>`` form that xlsxwriter's ``write_string`` would pass
    through raw in constant-memory mode.
    """

    _NEEDS = ("constant_memory", "row_data_fh", "fh", "previous_row", "_write_single_row")

    @classmethod
    def supported(cls, worksheet):
        if not all(hasattr(worksheet, name) for name in cls._NEEDS):
            return False
        return bool(worksheet.constant_memory) and worksheet.fh is worksheet.row_data_fh

    def __init__(self, worksheet, kinds, cell_formats):
        self.worksheet = worksheet
        self.ncols = len(kinds)
        styles = {key: fmt._get_xf_index() for key, fmt in cell_formats.items()}
        self.emitters = [
            _emitter(xl_col_to_name(col), kind, styles) for col, kind in enumerate(kinds)
        ]
        self.started = False

    def put_rows(self, last_row, batch):
        """Write ``batch`` as the rows after ``last_row`` (0: the header)."""
        worksheet = self.worksheet
        if not self.started:
            worksheet._write_single_row(last_row + 1)  # flushes the header row
            self.started = True
        emitters = self.emitters
        chunks = []
        row_no = last_row
        for row in batch:
            row_no += 1
            ref = str(row_no + 1)
            cells = [
                emit(value, ref)
                for emit, value in zip(emitters, row, strict=False)
                if value is not None
            ]
            if not cells:
                continue  # no value: no row, as xlsxwriter does
            chunks.append(f'<row r="{ref}">{"".join(cells)}</row>')
        worksheet.fh.write("".join(chunks))

    def finish(self, last_row):
        worksheet = self.worksheet
        if self.started and last_row:
            worksheet._check_dimensions(last_row, 0)
            worksheet._check_dimensions(last_row, self.ncols - 1)
            worksheet.previous_row = last_row


def _inline(ref, text):
    space = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{_xml_text(text)}</t></is></c>'


def _emitter(letter, kind, styles):
    """``emit(value, row_ref) -> xml`` of one column's cells."""
    if kind == "text":

        def emit_text(value, ref):
            text = value if type(value) is str else str(value)
            return _inline(letter + ref, text[:CELL_TEXT_MAX])

        return emit_text

    convert = _CONVERTERS[kind]
    style_attrs = {key: f'" s="{index}"><v>' for key, index in styles.items()}

    def emit(value, ref):
        number, key = convert(value)
        if key is None:
            return _inline(letter + ref, number)
        return f'<c r="{letter}{ref}{style_attrs[key]}{number:.16G}</v></c>'

    return emit


def export_to_tempfile(sheets, max_rows=None, progress=None, directory=None, prefix="perf_"):
    """Write ``sheets`` into a new temporary ``.xlsx`` file; return ``(path, stats)``.

    The file is the caller's to remove. On any error (the row cap included) the partial
    file is removed before the error propagates.
    """
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=".xlsx", dir=directory)
    os.close(fd)
    try:
        stats = write_workbook(path, sheets, max_rows=max_rows, progress=progress, tmpdir=directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return path, stats
