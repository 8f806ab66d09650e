"""psycopg 3 COPY in both directions with bounded memory: rows generated chunk by chunk, output hashed
as it streams. The rows are the same as test/harness/drivers/copy-data.ts generates.

usage: copy_rows.py in TABLE ROWS   -> {"rows", "bytes", "md5"} of what was sent
       copy_rows.py out SQL         -> {"rows", "bytes", "md5"} of what was received
"""
import hashlib
import sys

from common import connect, emit

ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
BASE = ALPHABET * 3
CHUNK_ROWS = 2000


def line(i: int) -> str:
    start = i % len(ALPHABET)
    return f"{i}\t{BASE[start:start + 90]}\n"


def copy_in(table: str, count: int):
    md5, size = hashlib.md5(), 0
    with connect() as conn, conn.cursor() as cur:
        with cur.copy(f"copy {table} (id, payload) from stdin") as copy:
            for first in range(1, count + 1, CHUNK_ROWS):
                last = min(count, first + CHUNK_ROWS - 1)
                chunk = "".join(line(i) for i in range(first, last + 1)).encode("ascii")
                md5.update(chunk)
                size += len(chunk)
                copy.write(chunk)
        tag = cur.statusmessage
    return {"rows": count, "bytes": size, "md5": md5.hexdigest(), "tag": tag}


def copy_out(sql: str):
    md5, size, rows = hashlib.md5(), 0, 0
    with connect() as conn, conn.cursor() as cur:
        cur.execute("set work_mem = '256MB'")
        with cur.copy(sql) as copy:
            for data in copy:
                chunk = bytes(data)
                md5.update(chunk)
                size += len(chunk)
                rows += chunk.count(b"\n")
    return {"rows": rows, "bytes": size, "md5": md5.hexdigest()}


def main():
    if sys.argv[1] == "in":
        emit(copy_in(sys.argv[2], int(sys.argv[3])))
    elif sys.argv[1] == "out":
        emit(copy_out(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {sys.argv[1]}")


if __name__ == "__main__":
    main()
