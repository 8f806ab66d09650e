"""psycopg 3 LISTEN/NOTIFY across two connections through the gateway.

usage: notify.py CHANNEL PAYLOAD
Prints the notification the listener received and whether its sender pid is the notifier's backend.
The TypeScript side bounds the wait with the process timeout.
"""
import sys

from common import connect, emit


def main():
    channel, payload = sys.argv[1], sys.argv[2]
    with connect() as listener, connect() as notifier:
        listener.execute(f"listen {channel}")
        sender = notifier.execute("select pg_backend_pid()").fetchone()[0]
        notifier.execute("select pg_notify(%s, %s)", [channel, payload])
        for note in listener.notifies():
            emit({"channel": note.channel, "payload": note.payload, "senderMatches": note.pid == sender})
            break


if __name__ == "__main__":
    main()
