"""Tool parameters: declarative validation and the canonical hash.

A tool declares ``_tool_params = {"name": Param(...), ...}``; :func:`validate` returns a new
dict of coerced values (defaults filled, unknown names refused) or raises :class:`ParamError`
naming the parameter. :func:`params_hash` is the full SHA-256 of the canonical JSON of the
validated values: what the call log stores instead of raw parameters, and the cache keys on.
"""

import datetime
import hashlib
import json
import re

_MISSING = object()
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ParamError(ValueError):
    """A parameter failed validation; ``name`` is the parameter, ``message`` says why.

    The message never repeats the value: it ends up in the call log, which stores no raw
    parameter (the user who sent the value sees the message next to it anyway).
    """

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class Param:
    """One parameter: its type and bounds.

    ``kind`` is one of ``int``, ``float``, ``str``, ``bool``, ``date``, ``int_list``,
    ``choice``. ``choices`` is required for ``choice``.
    """

    KINDS = ("int", "float", "str", "bool", "date", "int_list", "choice")

    def __init__(
        self,
        kind,
        required=False,
        default=_MISSING,
        min=None,  # pylint: disable=redefined-builtin
        max=None,  # pylint: disable=redefined-builtin
        choices=None,
        max_length=1000,
    ):
        if kind not in self.KINDS:
            raise ValueError(f"unknown parameter kind {kind!r}")
        if kind == "choice" and not choices:
            raise ValueError("a choice parameter needs choices")
        self.kind = kind
        self.required = required
        self.default = default
        self.min = min
        self.max = max
        self.choices = tuple(choices or ())
        self.max_length = max_length

    def coerce(self, name, value):
        kind = self.kind
        if kind == "int":
            value = _to_int(name, value)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ParamError(name, "must be a number")
            try:
                value = float(value)
            except ValueError:
                raise ParamError(name, "must be a number") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise ParamError(name, "must be a finite number")
        elif kind == "str":
            if not isinstance(value, str):
                raise ParamError(name, "must be a string")
            if len(value) > self.max_length:
                raise ParamError(name, f"must be at most {self.max_length} characters")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ParamError(name, "must be true or false")
        elif kind == "date":
            value = _to_date(name, value)
        elif kind == "int_list":
            if not isinstance(value, (list, tuple)):
                raise ParamError(name, "must be a list of integers")
            if len(value) > self.max_length:
                raise ParamError(name, f"must hold at most {self.max_length} items")
            value = sorted({_to_int(name, v) for v in value})
        elif kind == "choice":
            if value not in self.choices:
                allowed = ", ".join(map(str, self.choices))
                raise ParamError(name, f"must be one of {allowed}")
        if self.min is not None and value < self.min:
            raise ParamError(name, f"must be at least {self.min}")
        if self.max is not None and value > self.max:
            raise ParamError(name, f"must be at most {self.max}")
        return value


def _to_int(name, value):
    if isinstance(value, bool):
        raise ParamError(name, "must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ParamError(name, "must be an integer")


def _to_date(name, value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise ParamError(name, "is not a valid date") from None
    raise ParamError(name, "must be a date as YYYY-MM-DD")


def validate(spec, params):
    """Validate ``params`` (a dict) against ``spec`` (name -> :class:`Param`)."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ParamError("params", "must be an object of named parameters")
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise ParamError(unknown[0], "is not a parameter of this tool")
    clean = {}
    for name, param in spec.items():
        value = params.get(name, _MISSING)
        if value is _MISSING or value is None:
            if param.required:
                raise ParamError(name, "is required")
            if param.default is not _MISSING:
                clean[name] = param.default
            continue
        clean[name] = param.coerce(name, value)
    return clean


def _json_default(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def canonical_json(value):
    """Compact JSON with sorted keys: equal values give equal bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def params_hash(params):
    """Full SHA-256 (hex) of the canonical JSON of ``params``."""
    return hashlib.sha256(canonical_json(params).encode("utf-8")).hexdigest()
