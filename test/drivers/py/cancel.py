"""psycopg 3 cancel: conn.cancel() from another thread while `select pg_sleep(30)` runs on conn.

usage: cancel.py
Waits (bounded) until the backend is really inside pg_sleep, as seen through a second connection,
then cancels. Prints the SQLSTATE the sleeping query raised and what the same connection returns
afterwards, with whether it is still the same backend.
"""
import threading
import time

import psycopg

from common import connect, emit


def main():
    outcome = {}
    with connect() as conn, connect() as observer:
        pid = conn.execute("select pg_backend_pid()").fetchone()[0]

        def sleeper():
            try:
                conn.execute("select pg_sleep(30)")
                outcome["code"] = None
            except psycopg.Error as err:
                outcome["code"] = err.sqlstate

        thread = threading.Thread(target=sleeper)
        thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            row = observer.execute(
                "select 1 from pg_stat_activity where pid = %s and wait_event = 'PgSleep'", [pid]
            ).fetchone()
            if row is not None:
                break
            time.sleep(0.02)
        conn.cancel()
        thread.join(25)
        n, after_pid = conn.execute("select 40 + 2, pg_backend_pid()").fetchone()
    emit({"code": outcome.get("code", "no-outcome"), "samePid": after_pid == pid, "after": n})


if __name__ == "__main__":
    main()
