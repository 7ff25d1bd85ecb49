"""``python -m tests.odoo_data --dsn DSN --size l [--mode odoo]``.

standalone (default): create the schema in an empty database, mark it, fill it.
odoo: fill a real Odoo 17 database marked with ``perf.benchmark_database = True``.
"""

import argparse
import json

import psycopg2

from . import generator, odoo_mode


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--dsn", required=True, help="an empty database (standalone) or a marked Odoo database"
    )
    parser.add_argument("--size", default="xs", choices=sorted(generator.SIZES))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--mode", default="standalone", choices=("standalone", "odoo"))
    args = parser.parse_args()
    conn = psycopg2.connect(args.dsn)
    if args.mode == "odoo":
        with conn.cursor() as cr:
            counts = odoo_mode.generate(cr, args.size, args.seed)
        conn.commit()
    else:
        counts = generator.generate(conn, args.size, args.seed)
    conn.close()
    print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main()
