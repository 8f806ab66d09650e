"""Runs masking-table cases through psycopg 3 on one autocommit connection, in order.

usage: masking_table.py < {"binary": bool, "cases": [{"before": [...], "sql": "...", "after": [...], "copy": bool}]}
Connects to PGWARD_DSN. Each case runs its `before` statements, the statement (COPY through
cursor.copy(), rows through a text or binary cursor), then its `after` statements even when the
statement failed. Prints one JSON line: {"results": [{ok, sqlstate, message, columns, rows, copy}]}.
"""
import base64
import datetime
import decimal
import json
import os
import sys

import psycopg


def cell(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, datetime.timedelta)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [cell(v) for v in value]
    if isinstance(value, dict):
        return {k: cell(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def failure(err):
    return {
        "ok": False,
        "sqlstate": getattr(err, "sqlstate", None),
        "message": str(getattr(getattr(err, "diag", None), "message_primary", None) or err),
        "columns": [],
        "rows": [],
        "copy": None,
    }


def run_case(conn, case, binary):
    for sql in case["before"]:
        conn.execute(sql)
    try:
        with conn.cursor(binary=binary) as cur:
            if case["copy"]:
                with cur.copy(case["sql"]) as copy:
                    data = b"".join(bytes(chunk) for chunk in copy)
                return {"ok": True, "sqlstate": None, "message": None, "columns": [], "rows": [],
                        "copy": base64.b64encode(data).decode("ascii")}
            cur.execute(case["sql"])
            columns = [{"name": d.name, "type": d.type_code} for d in (cur.description or [])]
            rows = [[cell(v) for v in row] for row in cur.fetchall()] if cur.description else []
            return {"ok": True, "sqlstate": None, "message": None, "columns": columns, "rows": rows,
                    "copy": None}
    except psycopg.Error as err:
        return failure(err)
    finally:
        for sql in case["after"]:
            try:
                conn.execute(sql)
            except psycopg.Error:
                pass


def main():
    spec = json.load(sys.stdin)
    with psycopg.connect(os.environ["PGWARD_DSN"], autocommit=True) as conn:
        results = [run_case(conn, case, spec["binary"]) for case in spec["cases"]]
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
