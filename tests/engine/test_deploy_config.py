"""The deployment files, checked without a container engine: docker-compose.yml and odoo.conf.

``docker compose config`` needs the Compose plugin and the test machines have neither it nor an
engine, so:

- docker-compose.yml is validated against the Compose Specification's own JSON schema
  (``tests/data/compose-spec.json``, see ``tests/data/README.md``), then against what the
  toolkit needs (three healthy services, pg_stat_statements, a bounded LRU Redis, named
  volumes, the addons and odoo.conf mounted, the same credentials and URLs everywhere);
- odoo.conf is read the way Odoo reads it (``configparser``, no inline comments), every option
  must carry its reason on the line above, and its numbers must add up.

The connection rule: Odoo's ``db_maxconn`` caps the pool of *each process* (``sql_db._Pool``
is per process), not the server's total. So

1. ``db_maxconn >= PER_PROCESS_PEAK``: the most connections one process holds at once — the
   request or cron job cursor, the cron's job-claim cursor (Odoo 17 holds it while the job
   runs), the call log's short-lived cursor, a replica cursor, the cache/call-log flusher
   thread's cursor. Below that a busy worker raises ``PoolError``.
2. ``(workers + max_cron_threads) * db_maxconn + db_maxconn_gevent + reserved <=
   max_connections`` of the db service: even if every process filled its pool, PostgreSQL
   still has room for its superuser reserve and for operators (psql, backups, exporters).

No database or Redis is needed; the optional last test asks a real Odoo 17 (``ODOO_PATH``,
``ODOO_PYTHON``, as ``make test`` uses them) to parse odoo.conf.
"""

import configparser
import copy
import json
import os
import re
import shlex
import subprocess

import jsonschema
import pytest
import yaml

from .helpers import ROOT, engine

COMPOSE_FILE = os.path.join(ROOT, "docker-compose.yml")
CONF_FILE = os.path.join(ROOT, "odoo.conf")
SCHEMA_FILE = os.path.join(ROOT, "tests", "data", "compose-spec.json")

ADDONS = ["perf_core", "perf_cache", "perf_indexes", "perf_aggregates", "perf_monitoring"]
ADDONS_MOUNT = "/mnt/extra-addons"
CONF_MOUNT = "/etc/odoo/odoo.conf"
ODOO_DATA_DIR = "/var/lib/odoo"
PG_DATA_DIR = "/var/lib/postgresql/data"
REDIS_URL = "redis://redis:6379/0"

#: Connections one Odoo process may hold at once (see the module docstring).
PER_PROCESS_PEAK = 5
#: PostgreSQL's superuser_reserved_connections default.
PG_SUPERUSER_RESERVED = 3
#: Connections kept free for operators: psql, pg_dump, a metrics exporter.
OPERATOR_HEADROOM = 10

INT_OPTIONS = (
    "workers",
    "max_cron_threads",
    "db_maxconn",
    "db_maxconn_gevent",
    "db_port",
    "gevent_port",
    "limit_memory_soft",
    "limit_memory_hard",
    "limit_time_cpu",
    "limit_time_real",
    "limit_time_real_cron",
    "limit_request",
)
OPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)\s*=(.*)$")


# ---------------------------------------------------------------------------------------------
# Loading and small parsers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose():
    with open(COMPOSE_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def conf():
    """odoo.conf's [options] as Odoo reads them (RawConfigParser, no inline comments)."""
    parser = configparser.RawConfigParser()
    with open(CONF_FILE, encoding="utf-8") as f:
        parser.read_file(f)
    assert parser.sections() == ["options"], "odoo.conf must hold one [options] section"
    return dict(parser.items("options"))


def conf_int(conf, name):
    try:
        return int(conf[name])
    except KeyError:
        pytest.fail(f"odoo.conf has no {name}")
    except ValueError:
        pytest.fail(f"odoo.conf {name} = {conf[name]!r} is not an integer")


def as_argv(command):
    """A Compose command (string or list) as a list of arguments."""
    return shlex.split(command) if isinstance(command, str) else [str(a) for a in command]


def postgres_settings(service):
    """``-c name=value`` pairs of a postgres command line, as a dict."""
    argv = as_argv(service.get("command", []))
    settings = {}
    for flag, value in zip(argv, argv[1:], strict=False):
        if flag == "-c":
            name, _, setting = value.partition("=")
            settings[name] = setting
    return settings


def redis_settings(service):
    """``--name value`` pairs of a redis-server command line, as a dict."""
    argv = as_argv(service.get("command", []))
    return {
        flag[2:]: value
        for flag, value in zip(argv, argv[1:] + [""], strict=False)
        if flag.startswith("--")
    }


def mounts(service):
    """Each volume entry as (type, source, target, read_only), short or long syntax."""
    result = []
    for entry in service.get("volumes", []):
        if isinstance(entry, dict):
            source, target = entry.get("source", ""), entry["target"]
            kind = entry.get("type", "volume")
            read_only = bool(entry.get("read_only", False))
        else:
            parts = entry.split(":")
            source, target = parts[0], parts[1]
            read_only = len(parts) > 2 and "ro" in parts[2].split(",")
            kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        result.append((kind, source, target, read_only))
    return result


def environment(service):
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def healthcheck_text(service):
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


# ---------------------------------------------------------------------------------------------
# docker-compose.yml: the Compose Specification
# ---------------------------------------------------------------------------------------------


def schema_errors(document):
    with open(SCHEMA_FILE, encoding="utf-8") as f:
        schema = json.load(f)
    # The file declares draft-07 by an URL that jsonschema does not map ("https://...").
    assert "draft-07" in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_follows_the_compose_specification(compose):
    assert schema_errors(compose) == []


def test_the_schema_rejects_what_compose_would_reject(compose):
    """The schema really validates: a misspelt key and a wrong type are refused."""
    broken = copy.deepcopy(compose)
    broken["services"]["odoo"]["helthcheck"] = broken["services"]["odoo"].pop("healthcheck")
    assert any("helthcheck" in error for error in schema_errors(broken))
    broken = copy.deepcopy(compose)
    broken["services"]["db"]["depends_on"] = 42
    assert schema_errors(broken)


# ---------------------------------------------------------------------------------------------
# docker-compose.yml: what the toolkit needs
# ---------------------------------------------------------------------------------------------


def test_three_services_on_the_supported_versions(services):
    assert set(services) == {"odoo", "db", "redis"}
    assert services["odoo"]["image"] == "odoo:17.0"
    assert services["db"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"


def test_every_service_has_a_real_healthcheck(services):
    expected = {"db": "pg_isready", "redis": "redis-cli ping", "odoo": ":8069/health"}
    for name, probe in expected.items():
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
        assert not services[name]["healthcheck"].get("disable"), f"{name} healthcheck disabled"
        assert probe in healthcheck_text(services[name]), f"{name} healthcheck is not {probe}"
    # The image's initdb server listens on the Unix socket only: probe TCP, not the socket.
    assert "127.0.0.1" in healthcheck_text(services["db"])
    # The first start installs modules before serving: its probes must not count as failures.
    assert services["odoo"]["healthcheck"].get("start_period")


def test_odoo_starts_after_healthy_db_and_redis(services):
    depends = services["odoo"]["depends_on"]
    assert isinstance(depends, dict), "depends_on needs the long syntax to wait for health"
    for name in ("db", "redis"):
        assert depends[name]["condition"] == "service_healthy"


def test_pg_stat_statements_is_preloaded(services):
    settings = postgres_settings(services["db"])
    assert as_argv(services["db"]["command"])[0] == "postgres"
    assert "pg_stat_statements" in settings["shared_preload_libraries"].split(",")
    assert settings["pg_stat_statements.track"] == "all"
    # and the odoo service creates the extension in its database
    assert "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" in odoo_script(services)


def test_redis_is_a_bounded_lru_cache(services):
    argv = as_argv(services["redis"]["command"])
    settings = redis_settings(services["redis"])
    assert argv[0] == "redis-server"
    assert re.fullmatch(r"\d+[kmg]b?", settings["maxmemory"].lower()), settings["maxmemory"]
    assert settings["maxmemory-policy"] == "allkeys-lru"


def test_state_lives_in_named_volumes(compose, services):
    declared = set(compose.get("volumes") or {})
    used = {
        source
        for service in services.values()
        for kind, source, _target, _ro in mounts(service)
        if kind == "volume"
    }
    assert used <= declared, f"volumes used but not declared: {used - declared}"
    assert declared <= used, f"volumes declared but unused: {declared - used}"
    db_data = [m for m in mounts(services["db"]) if m[2] == PG_DATA_DIR]
    odoo_data = [m for m in mounts(services["odoo"]) if m[2] == ODOO_DATA_DIR]
    assert db_data and db_data[0][0] == "volume", "PostgreSQL data is not in a named volume"
    assert odoo_data and odoo_data[0][0] == "volume", "Odoo's filestore is not in a named volume"


def test_addons_and_odoo_conf_are_mounted_read_only(services):
    by_target = {
        target: (kind, source, ro) for kind, source, target, ro in mounts(services["odoo"])
    }
    kind, source, read_only = by_target[ADDONS_MOUNT]
    assert kind == "bind" and os.path.normpath(source) == "." and read_only
    for addon in ADDONS:
        assert os.path.isfile(os.path.join(ROOT, addon, "__manifest__.py")), addon
    kind, source, read_only = by_target[CONF_MOUNT]
    assert kind == "bind" and os.path.normpath(source) == "odoo.conf" and read_only


def test_no_bind_mount_names_a_path_of_one_machine(services):
    for name, service in services.items():
        for kind, source, _target, _ro in mounts(service):
            if kind == "bind":
                assert source.startswith("."), f"{name}: bind mount {source} is not relative"


def test_odoo_does_not_use_the_postgres_role(services, conf):
    db_env = environment(services["db"])
    assert db_env["POSTGRES_USER"] != "postgres"
    assert conf["db_user"] == db_env["POSTGRES_USER"]
    assert conf["db_password"] == db_env["POSTGRES_PASSWORD"]
    assert conf["db_host"] in services and services[conf["db_host"]]["image"].startswith("postgres")
    assert conf_int(conf, "db_port") == 5432


def test_start_script_talks_to_the_same_database_as_odoo(services, conf):
    env = environment(services["odoo"])
    assert env["PGHOST"] == conf["db_host"]
    assert int(env["PGPORT"]) == conf_int(conf, "db_port")
    assert env["PGUSER"] == conf["db_user"]
    assert env["PGPASSWORD"] == conf["db_password"]
    assert env["PGDATABASE"] == conf["db_name"]


def test_redis_url_is_the_same_everywhere(services, conf):
    env = environment(services["odoo"])
    assert env["PERF_REDIS_URL"] == REDIS_URL
    assert conf["perf_redis_url"] == REDIS_URL
    assert REDIS_URL.split("//")[1].split(":")[0] in services


def odoo_script(services):
    argv = as_argv(services["odoo"]["command"])
    assert argv[:2] == ["sh", "-ec"], "the odoo command is the start script of docker-compose.yml"
    return argv[2]


def test_first_start_installs_the_five_addons_once(services):
    env = environment(services["odoo"])
    assert env["PERF_ADDONS"].split(",") == ADDONS
    script = odoo_script(services)
    # install (then stop) only when the addons are not all installed yet...
    assert re.search(
        r'if \[ "\$\$ready" != t \]; then\s+[^\n]*\n\s*odoo -i "\$\$PERF_ADDONS"', script
    )
    assert "--stop-after-init" in script
    # ...and the server itself never runs with -i (it would re-initialise the addons' data)
    assert script.rstrip().splitlines()[-1].strip() == "exec odoo"
    # the packages the addons import beyond the image
    for package in ("redis", "prometheus_client"):
        assert package in script


def test_start_script_has_no_compose_interpolation(services):
    """Compose replaces ``$name``: every shell ``$`` in the script must be written ``$$``."""
    script = odoo_script(services)
    assert "$" not in script.replace("$$", ""), "unescaped $ in the odoo command"


def test_ports_are_loopback_while_odoo_trusts_proxy_headers(services, conf):
    if conf.get("proxy_mode") != "True":
        pytest.skip("proxy_mode is off")
    for port in services["odoo"].get("ports", []):
        host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
        assert host_ip == "127.0.0.1", f"{port}: proxy_mode trusts X-Forwarded-For from anyone"


# ---------------------------------------------------------------------------------------------
# odoo.conf
# ---------------------------------------------------------------------------------------------


def conf_lines():
    with open(CONF_FILE, encoding="utf-8") as f:
        return f.read().splitlines()


def test_every_option_has_its_reason_on_the_line_above():
    lines = conf_lines()
    options = 0
    for number, line in enumerate(lines):
        match = OPTION_LINE.match(line)
        if not match:
            continue
        options += 1
        above = lines[number - 1].strip() if number else ""
        assert above.startswith((";", "#")), f"odoo.conf line {number + 1}: {line!r} unexplained"
        text = above.lstrip(";#").strip()
        assert re.search(r"[A-Za-z]{3}", text) and not text.startswith(
            "----"
        ), f"odoo.conf line {number + 1}: the line above {match.group(1)} is not a reason"
    assert options >= 20


def test_no_inline_comments(conf):
    """Odoo's RawConfigParser keeps ``value  ; note`` as the value: comments go above."""
    for name, value in conf.items():
        assert not re.search(r"\s[;#]", value), f"{name} = {value!r} has an inline comment"


def test_values_have_odoo_types(conf):
    for name in INT_OPTIONS:
        conf_int(conf, name)
    for name in ("list_db", "proxy_mode"):
        assert conf[name] in ("True", "False"), name


def test_prefork_limits_are_consistent(conf):
    # limit_* apply only in prefork mode, and cron runs in its own processes there
    assert conf_int(conf, "workers") > 0
    assert conf_int(conf, "max_cron_threads") >= 1
    assert conf_int(conf, "limit_memory_soft") < conf_int(conf, "limit_memory_hard")
    assert conf_int(conf, "limit_time_cpu") <= conf_int(conf, "limit_time_real")
    assert conf_int(conf, "limit_time_real") <= conf_int(conf, "limit_time_real_cron")
    assert conf_int(conf, "limit_request") > 0


def test_each_process_pool_covers_its_peak(conf):
    assert conf_int(conf, "db_maxconn") >= PER_PROCESS_PEAK
    assert conf_int(conf, "db_maxconn_gevent") >= PER_PROCESS_PEAK


def test_all_pools_full_still_fit_postgresql(conf, services):
    max_connections = int(postgres_settings(services["db"]).get("max_connections", 100))
    processes = conf_int(conf, "workers") + conf_int(conf, "max_cron_threads")
    worst_case = processes * conf_int(conf, "db_maxconn") + conf_int(conf, "db_maxconn_gevent")
    needed = worst_case + PG_SUPERUSER_RESERVED + OPERATOR_HEADROOM
    assert needed <= max_connections, (
        f"{processes} processes x db_maxconn + db_maxconn_gevent = {worst_case}, plus "
        f"{PG_SUPERUSER_RESERVED + OPERATOR_HEADROOM} reserved, exceeds max_connections "
        f"{max_connections}"
    )


def test_server_is_locked_to_its_database(conf, services):
    assert conf["list_db"] == "False"
    # with list_db off, db_name (or dbfilter) is what picks the database of a request
    assert conf.get("db_name") or conf.get("dbfilter")


def test_paths_match_the_mounts(conf, services):
    assert ADDONS_MOUNT in [p.strip() for p in conf["addons_path"].split(",")]
    assert conf["data_dir"] == ODOO_DATA_DIR
    assert any(target == ODOO_DATA_DIR for _k, _s, target, _r in mounts(services["odoo"]))


def test_perf_server_options_are_the_ones_perf_core_reads(conf):
    settings = engine("perf_core", "settings")
    perf_keys = {name for name in conf if name.startswith("perf_")}
    assert perf_keys == set(settings.SERVER_OPTIONS)
    assert conf["perf_replica_dsn"] == ""
    assert settings.parse_max_lag(conf["perf_replica_max_lag_s"]) == 5
    # the environment variable of docker-compose.yml is the one perf_core falls back to
    assert settings.SERVER_OPTIONS["perf_redis_url"][0] == "PERF_REDIS_URL"


# ---------------------------------------------------------------------------------------------
# Odoo itself parses odoo.conf (only when an Odoo 17 tree is given, as for `make test`)
# ---------------------------------------------------------------------------------------------

PARSE_WITH_ODOO = """
import json, sys
from odoo.tools import config
config.parse_config(["-c", sys.argv[1]])
print(json.dumps({key: config[key] for key in sys.argv[2:]}))
"""


def test_odoo_reads_the_same_values(conf):
    odoo_path = os.environ.get("ODOO_PATH")
    if not odoo_path:
        pytest.skip("ODOO_PATH not set: no Odoo 17 tree to parse odoo.conf with")
    python = os.environ.get("ODOO_PYTHON", "python3")
    keys = sorted(conf)
    proc = subprocess.run(
        [python, "-c", PARSE_WITH_ODOO, CONF_FILE, *keys],
        cwd=odoo_path,
        env=dict(os.environ, PYTHONPATH=odoo_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    parsed = json.loads(proc.stdout.strip().splitlines()[-1])
    for name in INT_OPTIONS:
        assert parsed[name] == int(conf[name]), name
    assert parsed["list_db"] is False
    assert parsed["proxy_mode"] is (conf["proxy_mode"] == "True")
    for name in ("db_host", "db_user", "db_name", "perf_redis_url", "perf_replica_dsn"):
        assert parsed[name] == conf[name], name
