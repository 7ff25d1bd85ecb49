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
    money = formats.money(sheet.currency)
    dates = (formats.by_kind["date"], formats.by_kind["datetime"])
    cell_formats = [
        money if k == "money" else dates if k == "date" else formats.by_kind.get(k)
        for k in sheet.kinds
    ]
    writers = [_WRITERS[k] for k in sheet.kinds]
    widths = [len(name) + 2 for name in sheet.columns]  # room for the filter button
    row_no = 0
    first = True
    for batch in sheet.batches:
        stats.batches += 1
        if stats.rows + len(batch) > cap or row_no + len(batch) > SHEET_MAX_ROWS:
            raise RowCapExceeded(min(cap, SHEET_MAX_ROWS))
        for row in batch:
            row_no += 1
            for col in range(ncols):
                value = row[col] if col < len(row) else None
                if value is not None:
                    writers[col](worksheet, row_no, col, value, cell_formats[col])
        if first and batch:
            _measure(batch, sheet.kinds, widths, sheet.currency)
        first = False
        stats.rows += len(batch)
        if progress is not None:
            progress(stats.rows)
    for col, width in enumerate(widths):
        worksheet.set_column(col, col, max(MIN_WIDTH, min(MAX_WIDTH, width)))
    worksheet.autofilter(0, 0, row_no, ncols - 1)
    return row_no


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


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _write_text(worksheet, row, col, value, _fmt):
    text = value if isinstance(value, str) else str(value)
    # write_string: never a formula, URL or number, whatever the text starts with.
    worksheet.write_string(row, col, text[:CELL_TEXT_MAX])


def _write_number(worksheet, row, col, value, fmt):
    number = _number(value)
    if number is None or number != number or number in (float("inf"), float("-inf")):
        _write_text(worksheet, row, col, value, None)
    else:
        worksheet.write_number(row, col, number, fmt)


def _write_percent(worksheet, row, col, value, fmt):
    number = _number(value)
    if number is None or number != number or number in (float("inf"), float("-inf")):
        _write_text(worksheet, row, col, value, None)
    else:
        worksheet.write_number(row, col, number / 100.0, fmt)


def _write_date(worksheet, row, col, value, fmt):
    """``fmt`` is the pair (date format, date-and-time format)."""
    if isinstance(value, str):
        try:
            if len(value) <= 10:
                value = datetime.date.fromisoformat(value)
            else:
                value = datetime.datetime.fromisoformat(value)
        except ValueError:
            _write_text(worksheet, row, col, value, None)
            return
    if isinstance(value, datetime.datetime):
        has_time = value.time() != datetime.time(0)
        worksheet.write_datetime(row, col, value, fmt[1] if has_time else fmt[0])
    elif isinstance(value, datetime.date):
        worksheet.write_datetime(row, col, value, fmt[0])
    else:
        _write_text(worksheet, row, col, value, None)


_WRITERS = {
    "text": _write_text,
    "money": _write_number,
    "quantity": _write_number,
    "int": _write_number,
    "id": _write_number,
    "percent": _write_percent,
    "date": _write_date,
}


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
