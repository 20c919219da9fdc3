"""The benchmark's peer: a minimal reference producer on librdkafka (confluent-kafka).

It reads the load server's frames over the vendor's WebSocket protocol, as the old Python
sidecar did, and produces one record per AM bar: key = symbol, a JSON value with the fields
of the gateway's price event, the same six headers, acks=all, idempotence on, everything
else at librdkafka's defaults (linger.ms 5, no compression). It decides nothing else: no
ledger, no dedup, no fills. When librdkafka's queue is full it serves the producer until
there is room, so a slow broker holds up its socket reads (as the sidecar's flush did).

Settings (environment): PEER_WS_URL, PEER_API_KEY, PEER_SYMBOLS (comma-separated),
PEER_BOOTSTRAP, PEER_TOPIC. Prints one JSON line on stdout once subscribed to every symbol,
and on SIGTERM flushes, prints {"delivered": n, "failed": m, "unflushed": k} and exits.
"""

import json
import os
import signal
import sys
import time

from confluent_kafka import KafkaException, Producer, libversion
from websockets.sync.client import connect

ws_url = os.environ["PEER_WS_URL"]
api_key = os.environ["PEER_API_KEY"]
symbols = [s for s in os.environ["PEER_SYMBOLS"].split(",") if s]
topic = os.environ["PEER_TOPIC"]

delivered = 0
failed = 0


def on_delivery(err, _msg):
    global delivered, failed
    if err is None:
        delivered += 1
    else:
        failed += 1


producer = Producer(
    {
        "bootstrap.servers": os.environ["PEER_BOOTSTRAP"],
        "client.id": "sentio-bench-peer",
        "acks": "all",
        "enable.idempotence": True,
        "compression.type": "none",
    }
)

stopping = False


def stop(_signum, _frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, stop)

RUN = {"strategy": b"sentio-lite", "env": b"BENCH", "runId": b"bench-peer", "version": b"v1"}
minute_text = {}


def ts_et(start_ms):
    """The gateway's tsET: the bar's start minute, YYYY-MM-DDTHH:MM:00Z."""
    text = minute_text.get(start_ms)
    if text is None:
        if len(minute_text) > 4096:
            minute_text.clear()
        text = time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(start_ms // 1000))
        minute_text[start_ms] = text
    return text


def bar_id(start_ms):
    """Minute of the regular session, for the bench's EDT dates (13:30Z is 09:30 New York)."""
    minute_of_day = (start_ms // 60000) % 1440
    n = minute_of_day - 810 + 1
    return n if 1 <= n <= 390 else None


def produce(ev):
    start = ev["s"]
    tsET = ts_et(start)
    value = json.dumps(
        {
            "symbol": ev["sym"],
            "tsET": tsET,
            "open": ev["o"],
            "high": ev["h"],
            "low": ev["l"],
            "close": ev["c"],
            "volume": ev["v"],
            "vwap": ev.get("vw"),
            "startMs": start,
            "endMs": ev["e"],
            "barId": bar_id(start),
            "source": "live",
            "revision": 0,
        },
        separators=(",", ":"),
    )
    headers = [
        ("strategy", RUN["strategy"]),
        ("env", RUN["env"]),
        ("runId", RUN["runId"]),
        ("version", RUN["version"]),
        ("timestampET", tsET.encode()),
        ("source", b"live"),
    ]
    while True:
        try:
            producer.produce(topic, value=value, key=ev["sym"], headers=headers, on_delivery=on_delivery)
            return
        except BufferError:
            # librdkafka's queue is full: wait for deliveries (this holds up the socket).
            producer.poll(0.01)


def main():
    with connect(ws_url, max_size=None, compression=None, open_timeout=10) as ws:
        subscribed = set()
        wanted = len(symbols)
        while not stopping:
            try:
                frame = ws.recv(timeout=0.2)
            except TimeoutError:
                producer.poll(0)
                continue
            except Exception:
                break
            for ev in json.loads(frame):
                kind = ev.get("ev")
                if kind == "AM":
                    produce(ev)
                elif kind == "status":
                    status = ev.get("status")
                    if status == "connected":
                        ws.send(json.dumps({"action": "auth", "params": api_key}))
                    elif status == "auth_success":
                        ws.send(json.dumps({"action": "subscribe", "params": ",".join("AM." + s for s in symbols)}))
                    elif status == "auth_failed":
                        print(json.dumps({"error": "auth_failed"}), flush=True)
                        return 1
                    elif status == "success" and str(ev.get("message", "")).startswith("subscribed to: "):
                        subscribed.add(ev["message"][len("subscribed to: ") :])
                        if len(subscribed) == wanted:
                            print(json.dumps({"subscribed": wanted, "librdkafka": libversion()[0]}), flush=True)
            # Serve delivery reports without waiting: librdkafka sends on its own threads.
            producer.poll(0)
    return 0


if __name__ == "__main__":
    code = 1
    try:
        code = main()
    except KafkaException as e:
        print(json.dumps({"error": str(e)}), flush=True)
    finally:
        remaining = producer.flush(10)
        print(json.dumps({"delivered": delivered, "failed": failed, "unflushed": remaining}), flush=True)
    sys.exit(code)
