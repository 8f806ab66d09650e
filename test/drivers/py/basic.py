"""psycopg 3 basic scenarios: simple query, extended query (text and binary), transaction status.

usage: basic.py simple SQL | extended JSON_PARAMS | binary HEX_BYTES | transaction TABLE
"""
import json
import sys

import psycopg

from common import cell, columns, connect, emit, rows, status_letter


def simple(sql: str):
    # No parameters and text results: psycopg sends one simple Query message.
    with connect() as conn, conn.cursor() as cur:
        cur.execute(sql)
        sets = [{"columns": columns(cur), "rows": rows(cur)}]
        while cur.nextset():
            sets.append({"columns": columns(cur), "rows": rows(cur)})
        return sets


def extended(params):
    with connect() as conn, conn.cursor() as cur:
        cur.execute("select %s::int + 1 as n, %s::text as s, %s::text as z", params)
        return [{"columns": columns(cur), "rows": rows(cur)}]


def binary(hex_bytes: str):
    # %b sends binary parameters; binary=True asks for binary results.
    with connect() as conn, conn.cursor(binary=True) as cur:
        cur.execute(
            "select %b::int4 + 1 as n, %b::bytea as b, %b::text as s",
            [41, bytes.fromhex(hex_bytes), "h\u00e9llo"],
        )
        result = cur.pgresult
        return {
            "columns": columns(cur),
            "rows": rows(cur),
            "formats": [result.fformat(i) for i in range(result.nfields)],
        }


def transaction(table: str):
    with connect() as conn:
        conn.execute(f"create table {table} (n int)")
        conn.autocommit = False
        statuses = []
        codes = []
        conn.execute(f"insert into {table} values (1)")
        statuses.append(status_letter(conn))
        for sql in ("select 1/0", "select 1"):
            try:
                conn.execute(sql)
            except psycopg.Error as err:
                codes.append(err.sqlstate)
            statuses.append(status_letter(conn))
        conn.rollback()
        statuses.append(status_letter(conn))
        conn.autocommit = True
        count = conn.execute(f"select count(*) from {table}").fetchone()[0]
        return {"statuses": statuses, "codes": codes, "count": count}


def main():
    command, arg = sys.argv[1], sys.argv[2]
    if command == "simple":
        emit(simple(arg))
    elif command == "extended":
        emit(extended(json.loads(arg)))
    elif command == "binary":
        emit(binary(arg))
    elif command == "transaction":
        emit(transaction(arg))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
