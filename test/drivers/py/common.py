"""Shared helpers for the psycopg 3 driver scenarios: connections from the environment, JSON output."""
import json
import os
import sys

import psycopg


def dsn() -> str:
    """The gateway DSN the TypeScript test passes in PGWARD_DSN."""
    return os.environ["PGWARD_DSN"]


def connect(autocommit: bool = True) -> psycopg.Connection:
    return psycopg.connect(dsn(), autocommit=autocommit, connect_timeout=10)


def cell(value):
    """Normalises a value to the text form the TypeScript side compares (bytea as \\x hex)."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    return str(value)


def rows(cur) -> list:
    return [[cell(v) for v in row] for row in cur.fetchall()]


def columns(cur) -> list:
    return [c.name for c in cur.description or []]


def emit(result) -> None:
    """The one JSON line the TypeScript test parses (last line of stdout)."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def status_letter(conn: psycopg.Connection) -> str:
    """libpq's transaction status as the ReadyForQuery letter (I, T or E)."""
    status = conn.info.transaction_status
    return {
        psycopg.pq.TransactionStatus.IDLE: "I",
        psycopg.pq.TransactionStatus.INTRANS: "T",
        psycopg.pq.TransactionStatus.INERROR: "E",
    }.get(status, status.name)
