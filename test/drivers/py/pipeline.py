"""psycopg 3 pipeline mode: COUNT inserts queued with conn.pipeline() and one Sync at the end.

usage: pipeline.py TABLE COUNT
When the table has CHECK (n <> 500), statement 500 fails. Prints the values the statements returned,
in order, the SQLSTATEs raised, the row count afterwards and the result of one more query, which
proves the connection is still in sync.
"""
import sys

import psycopg

from common import connect, emit


def main():
    table, count = sys.argv[1], int(sys.argv[2])
    ok, errors = [], []
    with connect() as conn:
        cursors = []
        try:
            with conn.pipeline():
                for i in range(1, count + 1):
                    cur = conn.cursor()
                    cur.execute(f"insert into {table} (n) values (%s) returning n", [i])
                    cursors.append(cur)
        except psycopg.Error as err:
            errors.append(err.sqlstate)
        for cur in cursors:
            try:
                row = cur.fetchone()
            except psycopg.ProgrammingError:
                continue  # no result: this statement failed or was skipped after the failure
            ok.append(row[0])
        total = conn.execute(f"select count(*) from {table}").fetchone()[0]
        after = conn.execute("select 'after' || %s::text", ["-ok"]).fetchone()[0]
    emit({"ok": ok, "errors": errors, "count": total, "after": after})


if __name__ == "__main__":
    main()
