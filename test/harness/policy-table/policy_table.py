"""Runs policy-table statements through psycopg 3 on one autocommit connection, in order.

usage: policy_table.py < {"statements": ["SQL", ...]}
Connects to PGWARD_DSN. Statements without parameters go out as one simple Query each (psycopg's
choice), so a multi-statement string stays one request; COPY goes through cursor.copy(). Prints one
JSON line: a list of {ok, sqlstate, message, hint} in statement order, then {"alive": ...} from a last
query on the same connection.
"""
import json
import os
import re
import sys

import psycopg

COPY = re.compile(r"^\s*copy\b", re.IGNORECASE)
FROM_STDIN = re.compile(r"\bfrom\s+stdin\b", re.IGNORECASE)


def run(conn, sql):
    try:
        with conn.cursor() as cur:
            if COPY.match(sql):
                with cur.copy(sql) as copy:
                    if not FROM_STDIN.search(sql):
                        for _ in copy:
                            pass
            else:
                cur.execute(sql)
        return {"ok": True, "sqlstate": None, "message": None, "hint": None}
    except psycopg.Error as err:
        return {
            "ok": False,
            "sqlstate": err.sqlstate,
            "message": err.diag.message_primary,
            "hint": err.diag.message_hint,
        }


def main():
    statements = json.load(sys.stdin)["statements"]
    with psycopg.connect(os.environ["PGWARD_DSN"], autocommit=True) as conn:
        results = [run(conn, sql) for sql in statements]
        alive = conn.execute("select 'alive'").fetchone()[0]
    print(json.dumps({"results": results, "alive": alive}))


if __name__ == "__main__":
    main()
