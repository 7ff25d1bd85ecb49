"""perf_cache: payload codec and table generations on a real PostgreSQL."""

import datetime
import decimal
import gzip
import json
import random
import threading

import psycopg2
import pytest

from .cache_fixtures import generations, rr_connection, setup_cache_schema
from .helpers import engine

codec = engine("perf_cache", "codec")


def test_codec_round_trip_and_normalisation():
    result = {"columns": ["d", "n"], "rows": [[datetime.date(2024, 5, 1), 1.5]], "meta": {}}
    payload, raw = codec.encode(result)
    assert payload[:2] == b"\x1f\x8b", "gzip bytes, not base64 text"
    assert codec.decode(payload)["rows"] == [["2024-05-01", 1.5]]
    assert raw == len(gzip.decompress(payload)), "raw size is the stored JSON's size"


@pytest.mark.parametrize(
    "payload",
    [
        b"not gzip at all",
        gzip.compress(b'{"rows": [1, 2')[:-6],  # truncated
        gzip.compress(b'{"rows": [1, 2'),  # bad JSON
        gzip.compress(b"\xff\xfe"),  # not UTF-8
        b"",
        None,
    ],
)
def test_codec_corrupt_payloads(payload):
    with pytest.raises(codec.CorruptPayload):
        codec.decode(payload)


def test_codec_refuses_what_json_cannot_hold():
    for bad in (
        {"rows": [{1, 2}]},
        {"rows": [object()]},
        {"rows": [float("nan")]},
        {"rows": [decimal.Decimal("1.5")]},
    ):
        with pytest.raises(codec.NotSerialisable, match="my_tool"):
            codec.encode(bad, tool="my_tool")


def sales_result(n_rows, seed=7):
    """A result shaped like a daily sales report: dates, products, channels, amounts."""
    rnd = random.Random(seed)
    names = [
        f"Product {w} {c}"
        for w in ("Shirt", "Dress", "Jean", "Coat", "Shoe", "Bag")
        for c in ("Red", "Blue", "Black", "White", "Green")
    ]
    day0 = datetime.date(2024, 1, 1)
    rows = [
        [
            (day0 + datetime.timedelta(days=i // 40)).isoformat(),
            rnd.choice(names),
            f"SKU-{rnd.randrange(5000):05d}",
            rnd.choice(["online", "pos"]),
            rnd.randrange(1, 30),
            round(rnd.uniform(5, 300), 2),
        ]
        for i in range(n_rows)
    ]
    return {
        "columns": ["date", "product", "sku", "channel", "qty", "revenue"],
        "rows": rows,
        "meta": {"currency": "EUR"},
    }


def test_one_megabyte_result_compresses_below_150kb():
    result = sales_result(16000)
    plain = len(json.dumps(result, separators=(",", ":")).encode())
    payload, _raw = codec.encode(result)
    assert plain >= 1_000_000
    assert len(payload) <= 150_000, f"{len(payload)} bytes for {plain}"
    assert codec.decode(payload) == result


def test_columnar_only_for_regular_tables():
    ragged = {"columns": ["a", "b"], "rows": [[1, 2], [3]]}
    assert codec.decode(codec.encode(ragged)[0]) == ragged
    empty = {"columns": ["a"], "rows": []}
    assert codec.decode(codec.encode(empty)[0]) == empty
    assert codec.decode(codec.encode([1, 2])[0]) == [1, 2]


# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_db(make_database):
    dsn = make_database("perf_cache")
    setup_cache_schema(dsn)
    return dsn


def _gen(dsn, name="item"):
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cr:
        value = generations.read(cr, [name])[name]
    conn.close()
    return value


def _exec(dsn, *statements):
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cr:
        for statement in statements:
            cr.execute(statement)
    conn.commit()
    conn.close()


def test_attaching_the_trigger_moves_the_generation(cache_db):
    _exec(
        cache_db,
        "CREATE TABLE IF NOT EXISTS late_table (x int)",
        "INSERT INTO late_table VALUES (1)",
    )
    before = _gen(cache_db, "late_table")
    conn = psycopg2.connect(cache_db)
    assert generations.watch(conn.cursor(), "late_table")
    conn.commit()
    conn.close()
    assert _gen(cache_db, "late_table") > before


def test_every_kind_of_write_moves_the_generation(cache_db):
    before = _gen(cache_db)
    _exec(cache_db, "INSERT INTO item (value) VALUES (1)")
    after_insert = _gen(cache_db)
    _exec(cache_db, "UPDATE item SET value = value + 1")
    after_update = _gen(cache_db)
    _exec(cache_db, "DELETE FROM item WHERE value > 100")
    after_delete = _gen(cache_db)
    _exec(cache_db, "TRUNCATE item")
    after_truncate = _gen(cache_db)
    assert before < after_insert < after_update < after_delete < after_truncate
    assert "item" in generations.watched_tables(psycopg2.connect(cache_db).cursor())


def test_generation_is_read_in_the_readers_snapshot(cache_db):
    reader = rr_connection(cache_db)
    rcr = reader.cursor()
    seen = generations.read(rcr, ["item"])["item"]
    _exec(cache_db, "INSERT INTO item (value) VALUES (5)")  # commits after the snapshot
    assert generations.read(rcr, ["item"])["item"] == seen, "same snapshot, same generation"
    reader.rollback()
    assert generations.read(rcr, ["item"])["item"] > seen
    reader.close()


def test_uncommitted_writer_invisible_then_visible(cache_db):
    writer = psycopg2.connect(cache_db)
    wcr = writer.cursor()
    before = _gen(cache_db)
    wcr.execute("INSERT INTO item (value) VALUES (7)")
    assert _gen(cache_db) == before, "a writer's bump is invisible until it commits"
    writer.commit()
    assert _gen(cache_db) == before + 1
    writer.close()


def test_own_writes_detected_even_inside_a_savepoint(cache_db):
    conn = psycopg2.connect(cache_db)
    cr = conn.cursor()
    assert generations.own_writes_marker(cr, ["item"]) is None
    cr.execute("SAVEPOINT sp")
    cr.execute("INSERT INTO item (value) VALUES (8)")
    cr.execute("RELEASE SAVEPOINT sp")
    cr.execute("SELECT txid_current()")
    txid = cr.fetchone()[0]
    marker = generations.own_writes_marker(cr, ["item"])
    assert marker.startswith(f"{txid}:") and marker.endswith(":1")
    assert generations.own_writes_marker(cr, ["other_table"]) is None
    gens, own = generations.snapshot(cr, ["item", "other_table"])
    assert own == marker and gens["other_table"] == 0
    assert gens["item"] == generations.read(cr, ["item"])["item"]
    conn.rollback()
    assert generations.own_writes_marker(cr, ["item"]) is None
    conn.close()


def test_rolled_back_savepoint_never_repeats_a_marker(cache_db):
    conn = psycopg2.connect(cache_db)
    cr = conn.cursor()
    cr.execute("SAVEPOINT sp")
    cr.execute("INSERT INTO item (value) VALUES (1)")
    first = generations.snapshot(cr, ["item"])
    cr.execute("ROLLBACK TO SAVEPOINT sp")
    cr.execute("INSERT INTO item (value) VALUES (2)")  # same number of writes, other data
    second = generations.snapshot(cr, ["item"])
    assert first[0] == second[0], "the sums alone cannot tell the two states apart"
    assert first[1] != second[1], "the own-writes marker does"
    conn.rollback()
    conn.close()


def test_compaction_preserves_generations_for_every_snapshot(cache_db):
    for i in range(20):
        _exec(cache_db, f"INSERT INTO item (value) VALUES ({i})")
    old_reader = rr_connection(cache_db)
    ocr = old_reader.cursor()
    old_gen = generations.read(ocr, ["item"])["item"]
    conn = psycopg2.connect(cache_db)
    with conn.cursor() as cr:
        removed = generations.compact(cr)
        conn.commit()
        cr.execute("SELECT count(*) FROM perf_cache_write_log WHERE table_name = 'item'")
        assert cr.fetchone()[0] == 1
    conn.close()
    assert removed >= 19
    assert generations.read(ocr, ["item"])["item"] == old_gen, "old snapshot unchanged"
    assert _gen(cache_db) == old_gen, "new snapshots see the same total"
    old_reader.close()


def test_writers_of_one_table_do_not_block_each_other(cache_db):
    a = psycopg2.connect(cache_db)
    b = psycopg2.connect(cache_db)
    a.cursor().execute("INSERT INTO item (value) VALUES (1)")
    done = threading.Event()

    def second_writer():
        b.cursor().execute("UPDATE item SET value = value WHERE id < 0")
        done.set()

    thread = threading.Thread(target=second_writer)
    thread.start()
    assert done.wait(5), "the second writer waited on the first one's log row"
    thread.join()
    a.rollback()
    b.rollback()
    a.close()
    b.close()


def test_watch_missing_table_and_uninstall(make_database):
    dsn = make_database("perf_cache_u")
    setup_cache_schema(dsn)
    conn = psycopg2.connect(dsn)
    cr = conn.cursor()
    assert generations.watch(cr, "no_such_table") is False
    generations.uninstall(cr)
    cr.execute(
        "SELECT to_regclass('perf_cache_write_log'), "
        "(SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'perf_cache%')"
    )
    assert cr.fetchone() == (None, 0)
    cr.execute("INSERT INTO item (value) VALUES (1)")  # the table works without its trigger
    conn.close()


def test_compaction_skips_when_another_runs(cache_db):
    _exec(cache_db, "INSERT INTO item (value) VALUES (1)", "INSERT INTO item (value) VALUES (2)")
    holder = psycopg2.connect(cache_db)
    holder.cursor().execute("SELECT pg_advisory_xact_lock(%s, %s)", generations.COMPACT_LOCK)
    conn = psycopg2.connect(cache_db)
    assert generations.compact(conn.cursor(), wait=False) == 0
    holder.rollback()
    assert generations.compact(conn.cursor(), wait=False) >= 1
    conn.commit()
    conn.close()
    holder.close()
