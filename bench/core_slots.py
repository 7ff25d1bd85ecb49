"""perf_core engine benchmarks: slot acquire + release, and 40 callers on 4 slots.

Run through ``make bench`` (which starts the servers): ``python -m bench.core_slots DSN``.
"""

import multiprocessing
import sys
import threading
import time

import psycopg2

from bench.stats import line, median, pct, timed
from tests.engine.helpers import engine

slots = engine("perf_core", "slots")


def bench_acquire_release(dsn, repeat=2000):
    conn = psycopg2.connect(dsn)
    cr = conn.cursor()

    def empty_transaction():
        cr.execute("SELECT 1")
        conn.commit()

    def slot_transaction():
        slots.try_acquire(cr, 10)
        conn.commit()  # the slot is released by ending the transaction

    baseline = timed(empty_transaction, repeat)
    with_slot = timed(slot_transaction, repeat)
    conn.close()
    return median(baseline), median(with_slot)


def _caller(dsn, max_slots, queue_ms, hold_s, t0, results):
    try:
        conn = psycopg2.connect(dsn)
    except psycopg2.Error as error:
        results.append(("connect_error", 0.0, 0.0, str(error)))
        return
    begin = time.time()
    try:
        with conn.cursor() as cr:
            slots.acquire(cr, max_slots, queue_ms)
            got = time.time()
            cr.execute("SELECT pg_sleep(%s)", (hold_s,))
        conn.commit()
        results.append(("ok", got - begin, time.time() - begin, ""))
    except slots.SlotsBusy:
        results.append(("busy", time.time() - begin, time.time() - begin, ""))
    except psycopg2.Error as error:
        results.append(("pg_error", 0.0, time.time() - begin, str(error)))
    finally:
        conn.close()


def _process(dsn, threads, max_slots, queue_ms, hold_s, t0, queue):
    results = []
    workers = [
        threading.Thread(target=_caller, args=(dsn, max_slots, queue_ms, hold_s, t0, results))
        for _i in range(threads)
    ]
    while time.time() < t0:
        time.sleep(0.001)
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put(results)


def bench_contention(dsn, processes=4, threads=10, max_slots=4, queue_ms=5000, hold_s=0.2):
    """``processes`` x ``threads`` callers of a ``hold_s`` tool on ``max_slots`` slots."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    t0 = time.time() + 0.5
    procs = [
        ctx.Process(target=_process, args=(dsn, threads, max_slots, queue_ms, hold_s, t0, queue))
        for _i in range(processes)
    ]
    for p in procs:
        p.start()
    samples = []
    sampler_conn = psycopg2.connect(dsn)
    sampler_conn.autocommit = True
    scr = sampler_conn.cursor()
    while time.time() < t0:
        time.sleep(0.001)
    results = []
    deadline = time.time() + queue_ms / 1000.0 + 30
    while len(results) < processes and time.time() < deadline:
        samples.append(len(slots.utilisation(scr)))
        while not queue.empty():
            results.extend(queue.get())
        if len(results) >= processes * threads:
            break
        time.sleep(0.005)
    for p in procs:
        p.join(30)
    while not queue.empty():
        results.extend(queue.get())
    sampler_conn.close()
    return samples, results


def main(dsn):
    print("perf_core slots (engine, real PostgreSQL)")
    base, with_slot = bench_acquire_release(dsn)
    added = with_slot - base
    print(line("transaction without slot, median", base))
    print(line("transaction with slot acquire + release, median", with_slot))
    print(line("slot acquire + release added, median", added, target="<= 1 ms", ok=added <= 1.0))
    for queue_ms in (5000, 800):
        samples, results = bench_contention(dsn, queue_ms=queue_ms)
        ok = [r for r in results if r[0] == "ok"]
        busy = [r for r in results if r[0] == "busy"]
        errors = [r for r in results if r[0] not in ("ok", "busy")]
        bound = queue_ms / 1000.0 + 0.2
        late = [r for r in results if r[0] in ("ok", "busy") and r[1] > bound]
        print(
            f"  40 callers (4 processes x 10 threads), 200 ms tool, 4 slots, "
            f"queue timeout {queue_ms} ms:"
        )
        print(
            f"    completed {len(ok)}, busy {len(busy)}, PostgreSQL/connection errors "
            f"{len(errors)}, results {len(results)}/40"
        )
        print(
            f"    max concurrent holders sampled from pg_locks: {max(samples or [0])} "
            f"({len(samples)} samples; target <= 4: "
            f"{'met' if max(samples or [0]) <= 4 else 'MISSED'})"
        )
        waits = [r[1] * 1000 for r in ok]
        if waits:
            print(
                f"    queue wait of completed callers: p50 {median(waits):.0f} ms, "
                f"p95 {pct(waits, 95):.0f} ms, max {max(waits):.0f} ms"
            )
        print(
            f"    callers answered (slot or busy) later than queue timeout + 200 ms: "
            f"{len(late)} (target 0: {'met' if not late else 'MISSED'})"
        )
        for r in errors[:3]:
            print(f"    error: {r[3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
