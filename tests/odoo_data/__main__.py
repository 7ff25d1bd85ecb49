"""``python -m tests.odoo_data --dsn DSN --size l [--mode standalone|odoo] [--seed N]
[--end-date YYYY-MM-DD|today]``.

standalone (default): an empty database; creates the Odoo-17-shaped schema, marks the
database as a benchmark database and fills it. odoo: a real Odoo 17 database whose system
parameter ``perf.benchmark_database`` is ``True``. Prints the rows added per table, any
warnings and the elapsed time; exits with status 2 when the database is refused.
"""

import argparse
import datetime
import sys

import psycopg2

from . import generator


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m tests.odoo_data",
        description="Fill a benchmark database with realistic Odoo-17-shaped data.",
    )
    parser.add_argument(
        "--dsn", required=True, help="an empty database (standalone) or a marked Odoo database"
    )
    parser.add_argument("--size", default="xs", choices=list(generator.SIZES))
    parser.add_argument("--mode", default="standalone", choices=generator.MODES)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--end-date",
        type=_end_date,
        default=generator.END_DATE,
        help="last day of the data (YYYY-MM-DD, or 'today' for periods ending today; "
        f"default {generator.END_DATE.isoformat()}, reproducible)",
    )
    args = parser.parse_args(argv)
    conn = psycopg2.connect(args.dsn)
    try:
        summary = generator.generate(
            conn, size=args.size, seed=args.seed, mode=args.mode, end_date=args.end_date
        )
    except generator.GenerationRefused as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    finally:
        conn.close()
    meta = {key: summary.pop(key) for key in ("mode", "size", "seed", "warnings", "elapsed_s")}
    width = max(map(len, summary))
    print(f"{meta['mode']} size {meta['size']} seed {meta['seed']}: rows added")
    for table, rows in summary.items():
        print(f"  {table:<{width}} {rows:>10,}")
    print(f"  {'total':<{width}} {sum(summary.values()):>10,}")
    for warning in meta["warnings"]:
        print(f"warning: {warning}")
    print(f"elapsed: {meta['elapsed_s']:.1f} s")
    return 0


def _end_date(value):
    if value == "today":
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD or today): {value!r}") from None


if __name__ == "__main__":
    sys.exit(main())
