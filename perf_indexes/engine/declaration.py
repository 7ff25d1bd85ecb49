"""Index declarations: validation of their parts and the DDL they compose to.

A declaration names an index, its table, its key elements (a column, optionally followed by
``ASC``/``DESC``/``NULLS FIRST|LAST``, or an SQL expression), ``INCLUDE`` columns, a
predicate and a method. Identifiers are checked here and always quoted with
:class:`psycopg2.sql.Identifier`. Expressions and predicates are SQL fragments: a lexical
guard makes sure each is one balanced expression (no statement separator, comment, dollar
quote or backslash escape), then PostgreSQL itself parses and checks the exact DDL on an
empty copy of the table (:func:`perf_indexes.engine.pg_catalog.probe`), so its own error text
(subquery in a predicate, mutable function, unknown column) is what the user sees. Only
fragments that passed both are ever composed with :class:`psycopg2.sql.SQL`.
"""

import re
from dataclasses import dataclass, field

from psycopg2 import sql

METHODS = ("btree", "hash", "gist", "gin", "brin")

#: Lower-case unquoted PostgreSQL identifiers, at most 63 bytes (NAMEDATALEN - 1).
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_ORDERED_COLUMN = re.compile(
    r"^(?P<column>[a-z_][a-z0-9_]{0,62})" r"(?P<order>(\s+(asc|desc))?(\s+nulls\s+(first|last))?)$",
    re.IGNORECASE,
)
#: Longest expression or predicate accepted.
FRAGMENT_MAX = 2000
#: Suffixes of the temporary names used while swapping a changed definition.
NEW_SUFFIX = "_perf_new"
OLD_SUFFIX = "_perf_old"


class DeclarationError(ValueError):
    """A declaration is refused; the message says which part and why."""


@dataclass(frozen=True)
class IndexDef:
    """One declared index. ``columns``: key elements; ``include``: INCLUDE columns."""

    name: str
    table: str
    columns: tuple
    include: tuple = ()
    predicate: str = None
    method: str = "btree"
    module: str = None
    description: str = field(default=None, compare=False)

    @classmethod
    def from_dict(cls, values):
        """Build (and validate) a declaration from a dict (data files, overrides)."""
        columns = values.get("columns") or ()
        if isinstance(columns, str):
            columns = split_lines(columns)
        include = values.get("include") or ()
        if isinstance(include, str):
            include = [c.strip() for c in include.split(",") if c.strip()]
        definition = cls(
            name=(values.get("name") or "").strip(),
            table=(values.get("table") or "").strip(),
            columns=tuple(c.strip() for c in columns if c and c.strip()),
            include=tuple(c.strip() for c in include if c and c.strip()),
            predicate=(values.get("predicate") or "").strip() or None,
            method=(values.get("method") or "btree").strip().lower(),
            module=values.get("module") or None,
            description=values.get("description") or None,
        )
        definition.validate()
        return definition

    # ------------------------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------------------------

    def validate(self):
        """Refuse bad identifiers and fragments that are not one balanced SQL expression."""
        check_identifier(self.name, "index name")
        if len(self.name) + len(NEW_SUFFIX) > 63:
            raise DeclarationError(
                f"index name {self.name!r} is too long: at most {63 - len(NEW_SUFFIX)} "
                "characters, so that a changed definition can be built beside it"
            )
        check_identifier(self.table, "table")
        if self.method not in METHODS:
            raise DeclarationError(f"method {self.method!r} is not one of {', '.join(METHODS)}")
        if not self.columns:
            raise DeclarationError(f"index {self.name}: at least one column or expression")
        for element in self.columns:
            if not _ORDERED_COLUMN.match(element):
                check_fragment(element, f"expression {element!r}")
        for column in self.include:
            check_identifier(column, "INCLUDE column")
        if self.include and self.method not in ("btree", "gist"):
            raise DeclarationError(f"INCLUDE columns need a btree or gist index, not {self.method}")
        if self.predicate is not None:
            check_fragment(self.predicate, "predicate")

    def plain_columns(self):
        """Table columns named directly (key columns and INCLUDE columns)."""
        named = []
        for element in self.columns:
            match = _ORDERED_COLUMN.match(element)
            if match:
                named.append(match.group("column").lower())
        return named + list(self.include)

    # ------------------------------------------------------------------------------------
    # DDL
    # ------------------------------------------------------------------------------------

    def body(self):
        """``USING method (keys) INCLUDE (...) WHERE (...)``, the part after the table."""
        keys = []
        for element in self.columns:
            match = _ORDERED_COLUMN.match(element)
            if match:
                order = " ".join(match.group("order").split()).upper()
                key = sql.Identifier(match.group("column").lower())
                keys.append(sql.SQL("{} {}").format(key, sql.SQL(order)) if order else key)
            else:
                # Validated by check_fragment (and parsed by PostgreSQL before any build).
                keys.append(sql.SQL("({})").format(sql.SQL(element)))
        parts = [sql.SQL("USING {} ({})").format(sql.SQL(self.method), sql.SQL(", ").join(keys))]
        if self.include:
            parts.append(
                sql.SQL("INCLUDE ({})").format(
                    sql.SQL(", ").join(sql.Identifier(c) for c in self.include)
                )
            )
        if self.predicate:
            parts.append(sql.SQL("WHERE ({})").format(sql.SQL(self.predicate)))
        return sql.SQL(" ").join(parts)

    def create_sql(self, name=None, table=None, concurrently=True, schema=None):
        """The ``CREATE INDEX`` statement (``name``/``table`` override for probes and swaps)."""
        target = sql.Identifier(table or self.table)
        if schema:
            target = sql.SQL("{}.{}").format(sql.Identifier(schema), target)
        return sql.SQL("CREATE INDEX {conc}{name} ON {table} {body}").format(
            conc=sql.SQL("CONCURRENTLY ") if concurrently else sql.SQL(""),
            name=sql.Identifier(name or self.name),
            table=target,
            body=self.body(),
        )

    def preview(self):
        """Readable DDL for the UI (identifiers quoted only when needed)."""
        keys = []
        for element in self.columns:
            keys.append(element if _ORDERED_COLUMN.match(element) else f"({element})")
        text = f"CREATE INDEX CONCURRENTLY {self.name} ON {self.table} USING {self.method} "
        text += f"({', '.join(keys)})"
        if self.include:
            text += f" INCLUDE ({', '.join(self.include)})"
        if self.predicate:
            text += f" WHERE ({self.predicate})"
        return text

    def temp_name(self, suffix=NEW_SUFFIX):
        return self.name + suffix


def split_lines(text):
    """Key elements given as text: one per line (expressions may contain commas)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def check_identifier(value, what):
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise DeclarationError(
            f"invalid {what} {value!r}: use a lower-case identifier of letters, digits and "
            "underscores (at most 63 characters, not starting with a digit)"
        )


def check_fragment(text, what):
    """Refuse anything but one balanced SQL expression.

    Outside string literals and quoted identifiers, a statement separator, a comment, a
    dollar quote or a backslash could end the expression or hide text from this guard;
    unbalanced parentheses could close the one the DDL wraps it in. PostgreSQL parses
    what passes (and gives its own error text for everything else).
    """
    if not isinstance(text, str) or not text.strip():
        raise DeclarationError(f"{what} is empty")
    if len(text) > FRAGMENT_MAX:
        raise DeclarationError(f"{what} is longer than {FRAGMENT_MAX} characters")
    if "\\" in text:
        raise DeclarationError(f"{what}: backslashes are not accepted")
    if "\x00" in text:
        raise DeclarationError(f"{what}: NUL characters are not accepted")
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in ("'", '"'):
            end = text.find(char, i + 1)
            while end != -1 and end + 1 < n and text[end + 1] == char:
                end = text.find(char, end + 2)  # doubled quote inside the literal
            if end == -1:
                raise DeclarationError(f"{what}: unterminated quoted text")
            i = end + 1
            continue
        if char == ";":
            raise DeclarationError(f"{what} must be a single expression: ';' is not accepted")
        if text.startswith("--", i) or text.startswith("/*", i):
            raise DeclarationError(f"{what}: SQL comments are not accepted")
        if char == "$":
            raise DeclarationError(f"{what}: '$' (dollar quotes, parameters) is not accepted")
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise DeclarationError(f"{what}: unbalanced parentheses")
        i += 1
    if depth:
        raise DeclarationError(f"{what}: unbalanced parentheses")
