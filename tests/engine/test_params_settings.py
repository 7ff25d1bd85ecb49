"""Tool parameter validation, the canonical hash, and settings parsing (pure Python)."""

import datetime

import pytest

from .helpers import engine

params = engine("perf_core", "params")
settings = engine("perf_core", "settings")
Param = params.Param

SPEC = {
    "date_from": Param("date", required=True),
    "limit": Param("int", default=10, min=1, max=500),
    "company_ids": Param("int_list"),
    "channel": Param("choice", choices=("online", "pos"), default="online"),
    "ratio": Param("float", min=0, max=1),
    "label": Param("str", max_length=5),
    "strict": Param("bool"),
}


def test_valid_params_are_coerced_and_defaulted():
    clean = params.validate(SPEC, {"date_from": "2024-02-29", "company_ids": [3, "1", 3]})
    assert clean == {
        "date_from": datetime.date(2024, 2, 29),
        "limit": 10,
        "company_ids": [1, 3],
        "channel": "online",
    }


@pytest.mark.parametrize(
    "given, name, fragment",
    [
        ({}, "date_from", "is required"),
        ({"date_from": "2024-02-30"}, "date_from", "not a valid date"),
        ({"date_from": "yesterday"}, "date_from", "YYYY-MM-DD"),
        ({"date_from": "2024-01-01", "limit": 0}, "limit", "at least 1"),
        ({"date_from": "2024-01-01", "limit": 501}, "limit", "at most 500"),
        ({"date_from": "2024-01-01", "limit": True}, "limit", "integer"),
        ({"date_from": "2024-01-01", "limit": "1; DROP TABLE x"}, "limit", "integer"),
        ({"date_from": "2024-01-01", "channel": "web"}, "channel", "one of online, pos"),
        ({"date_from": "2024-01-01", "ratio": "nan"}, "ratio", "finite"),
        ({"date_from": "2024-01-01", "ratio": 2}, "ratio", "at most 1"),
        ({"date_from": "2024-01-01", "label": "toolong"}, "label", "at most 5"),
        ({"date_from": "2024-01-01", "strict": "yes"}, "strict", "true or false"),
        ({"date_from": "2024-01-01", "company_ids": "1,2"}, "company_ids", "list"),
        ({"date_from": "2024-01-01", "company_ids": [1, None]}, "company_ids", "integer"),
        ({"date_from": "2024-01-01", "oops": 1}, "oops", "not a parameter"),
    ],
)
def test_invalid_params_name_the_parameter(given, name, fragment):
    with pytest.raises(params.ParamError) as error:
        params.validate(SPEC, given)
    assert error.value.name == name
    assert fragment in error.value.message


def test_params_must_be_an_object():
    with pytest.raises(params.ParamError, match="object"):
        params.validate(SPEC, ["date_from"])


def test_hash_is_canonical_full_sha256():
    a = params.params_hash({"b": 1, "a": [1, 2], "d": datetime.date(2024, 1, 1)})
    b = params.params_hash({"d": datetime.date(2024, 1, 1), "a": [1, 2], "b": 1})
    assert a == b and len(a) == 64
    assert a != params.params_hash({"b": 2, "a": [1, 2], "d": datetime.date(2024, 1, 1)})


def test_bad_param_declaration_refused():
    with pytest.raises(ValueError):
        Param("decimal")
    with pytest.raises(ValueError):
        Param("choice")


@pytest.mark.parametrize("raw, expected", [(None, 10), (False, 10), ("", 10), ("7", 7), (3, 3)])
def test_settings_parse(raw, expected):
    assert settings.parse("perf_core.max_concurrent_tools", raw) == expected


@pytest.mark.parametrize("raw", ["0", "-1", "abc", "1.5", True, "100000"])
def test_settings_refuse_bad_values(raw):
    with pytest.raises(settings.SettingError, match="Maximum concurrent tools"):
        settings.parse("perf_core.max_concurrent_tools", raw)


def test_server_options_conf_then_environment():
    assert settings.server_option({"perf_redis_url": "redis://a"}, "perf_redis_url", {}) == (
        "redis://a"
    )
    env = {"PERF_REDIS_URL": "redis://b"}
    assert settings.server_option({}, "perf_redis_url", env) == "redis://b"
    assert settings.server_option({}, "perf_replica_max_lag_s", {}) == "5"
    with pytest.raises(settings.SettingError):
        settings.parse_max_lag("-1")
    with pytest.raises(settings.SettingError):
        settings.parse_max_lag("soon")
