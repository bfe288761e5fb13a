"""CPU per SMS in one sending thread, against the loopback Twilio stand-in answering at once:
the twilio client on its default HTTP client (requests), the SMS channel (the twilio client
on one urllib3 pool), and the floor: the same form posted bare on a urllib3 pool.

    python -m bench sms [--messages 4000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from urllib.parse import urlencode

import urllib3

SID = "AC" + "0" * 32
SENDER = "+15005550006"
TEXT = ("Mất điện do sự cố tại Phường Láng Hạ từ 14:05. Dự kiến có điện lại lúc 18:00. "
        "Hotline 1900 6769")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=4000)


def run(args: argparse.Namespace) -> None:
    server = subprocess.Popen([sys.executable, "-m", "tests.support.twilio_server",
                               "--latency", "0"], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    port = int(server.stdout.readline())
    try:
        api = f"http://127.0.0.1:{port}"
        default = _cpu_per_message(_default_client(api), args.messages)
        channel = _cpu_per_message(_channel(api), args.messages)
        floor = _cpu_per_message(_bare(port), args.messages)
    finally:
        server.terminate()
        server.wait()
    print(f"sms     : twilio client on requests {default:.3f} ms CPU per message; SMS channel "
          f"(twilio client on one urllib3 pool) {channel:.3f} ms")
    print(f"  floor : the same form posted bare on a urllib3 pool {floor:.3f} ms; ratio "
          f"{channel / floor:.1f}x (requests: {default / floor:.1f}x)", flush=True)


def _cpu_per_message(send: Callable[[int], object], count: int) -> float:
    for n in range(min(300, count)):  # connections open, imports and caches warm
        send(n)
    started = time.process_time()
    for n in range(count):
        send(1000 + n)
    return 1000 * (time.process_time() - started) / count


def _default_client(api: str) -> Callable[[int], object]:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    http = TwilioHttpClient(timeout=10, pool_connections=True)
    assert http.session is not None
    http.session.trust_env = False  # as the channel: the environment read once, not per post
    client = Client(SID, "bench", http_client=http)
    client.api.base_url = api
    return lambda n: client.messages.create(to=f"+8491{n:07d}", from_=SENDER, body=TEXT,
                                            validity_period=14400)


def _channel(api: str) -> Callable[[int], object]:
    from notifier.channels.base import Message
    from notifier.channels.sms import SmsChannel

    channel = SmsChannel(account_sid=SID, auth_token="bench", from_number=SENDER, api_url=api)
    return lambda n: channel.send(Message(id=n, key=f"k{n}", channel="sms",
                                          recipient=f"+8492{n:07d}", language="vi",
                                          kind="fault_ack", body=TEXT))


def _bare(port: int) -> Callable[[int], object]:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1)
    path = f"/2010-04-01/Accounts/{SID}/Messages.json"
    headers = {"Authorization": urllib3.make_headers(basic_auth=f"{SID}:bench")["authorization"],
               "Content-Type": "application/x-www-form-urlencoded"}

    def post(n: int) -> object:
        body = urlencode({"To": f"+8493{n:07d}", "From": SENDER, "Body": TEXT,
                          "ValidityPeriod": 14400})
        return pool.urlopen("POST", path, body=body, headers=headers, retries=False)
    return post
