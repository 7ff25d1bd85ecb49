"""perf_core settings: every default and bound in one place.

Settings live in ``ir.config_parameter`` under the keys below; Odoo's Settings page writes
them, and any writer (Settings, the System Parameters menu, XML data) is validated through
:func:`parse`. Server-level connection settings come from ``odoo.conf`` (or the environment)
because they are the same for every database of the server.
"""

import re
import zoneinfo

from . import locks

#: key -> (default, minimum, maximum, label)
SETTINGS = {
    "perf_core.max_concurrent_tools": (10, 1, locks.MAX_SLOTS, "Maximum concurrent tools"),
    "perf_core.queue_timeout_ms": (5000, 0, 600000, "Queue timeout (ms)"),
    "perf_core.call_retention_days": (30, 1, 3650, "Call log retention (days)"),
    "perf_core.purge_batch_size": (5000, 100, 1000000, "Purge batch size"),
    # XLSX exports: above the first, an export runs in the background; above the second it
    # is refused (at most Excel's 1,048,575 rows below the header).
    "perf_core.export_background_rows": (50000, 1, 1048575, "Background export above (rows)"),
    "perf_core.export_max_rows": (1000000, 1, 1048575, "Export row limit"),
    "perf_core.export_ttl_hours": (24, 1, 720, "Background export file lifetime (hours)"),
}

#: odoo.conf option -> (environment variable, default)
SERVER_OPTIONS = {
    "perf_redis_url": ("PERF_REDIS_URL", ""),
    "perf_replica_dsn": ("PERF_REPLICA_DSN", ""),
    "perf_replica_max_lag_s": ("PERF_REPLICA_MAX_LAG_S", "5"),
    # The index builder's way to PostgreSQL past a pooler (empty: Odoo's db_host/db_port).
    "perf_direct_db_host": ("PERF_DIRECT_DB_HOST", ""),
    "perf_direct_db_port": ("PERF_DIRECT_DB_PORT", ""),
}

#: Longest error text kept in the call log.
ERROR_TEXT_MAX = 2000


class SettingError(ValueError):
    """A setting value is invalid; the message names the setting and the bound."""


def parse(key, raw, specs=None):
    """Return the integer value of setting ``key`` from its stored text.

    ``specs`` maps keys to ``(default, minimum, maximum, label)``; other addons pass their
    own (default: :data:`SETTINGS`).

    ``None`` or an empty string gives the default. Anything else must be an integer within the
    setting's bounds, or :class:`SettingError` says which setting and why.
    """
    default, minimum, maximum, label = (specs or SETTINGS)[key]
    # ir.config_parameter.get_param answers False for a missing key.
    if raw is None or raw is False or (isinstance(raw, str) and not raw.strip()):
        return default
    if isinstance(raw, bool):
        raise SettingError(f"{label} must be an integer, not {raw!r}")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SettingError(f"{label} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise SettingError(f"{label} must be at least {minimum} (got {value})")
    if value > maximum:
        raise SettingError(f"{label} must be at most {maximum} (got {value})")
    return value


def server_option(options, name, environ):
    """Value of a server option: ``odoo.conf`` first, then its environment variable."""
    env_name, default = SERVER_OPTIONS[name]
    value = options.get(name)
    if value in (None, "", False):
        value = environ.get(env_name, default)
    return str(value).strip()


def parse_max_lag(raw):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise SettingError(f"perf_replica_max_lag_s must be a number, not {raw!r}") from None
    if value < 0:
        raise SettingError(f"perf_replica_max_lag_s must not be negative (got {value})")
    return value


#: Shape of an IANA time zone name ("UTC", "Europe/Brussels", "America/Argentina/Salta").
_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)*$")


def parse_time_zone(raw, label):
    """The IANA time zone name stored in a setting, or ``""`` when unset (the caller's
    default applies).

    Anything else must name a zone of the IANA database (``Europe/Brussels``, ``UTC``), or
    :class:`SettingError` names the setting (``label``) and the value.
    """
    if raw is None or raw is False or (isinstance(raw, str) and not raw.strip()):
        return ""
    name = str(raw).strip()
    error = SettingError(
        f"{label} must be an IANA time zone name such as Europe/Brussels, not {name!r}"
    )
    if not _ZONE_NAME.match(name) or name == "localtime":
        raise error
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise error from None
    return name
