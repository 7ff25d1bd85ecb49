"""``python -m tests.odoo_data --dsn DSN --size l``: create the schema in an empty database,
mark it as a benchmark database, and fill it."""

import argparse
import json

import psycopg2

from . import generator


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True, help="an EMPTY database")
    parser.add_argument("--size", default="xs", choices=sorted(generator.SIZES))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    conn = psycopg2.connect(args.dsn)
    counts = generator.generate(conn, args.size, args.seed)
    conn.close()
    print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main()
