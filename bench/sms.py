"""CPU per SMS in one sending thread, against the loopback Twilio stand-in answering at once:
the twilio client on its default HTTP client (requests), the SMS channel (the twilio client
on one urllib3 pool), and the floor: the channel's request (its headers and form) posted bare
on a urllib3 pool. The request and the stand-in are made here for the drain's floor too.

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

SID = "AC" + "0" * 32  # the account the stand-in and every benchmark use
TOKEN = "bench"
SENDER = "+15005550006"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"
TEXT = ("Mất điện do sự cố tại Phường Láng Hạ từ 14:05. Dự kiến có điện lại lúc 18:00. "
        "Hotline 1900 6769")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=4000)


def run(args: argparse.Namespace) -> None:
    server, port = start_stand_in(latency=0.0)
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
    print(f"  floor : the channel's request posted bare on a urllib3 pool {floor:.3f} ms; ratio "
          f"{channel / floor:.1f}x (requests: {default / floor:.1f}x)", flush=True)


def start_stand_in(latency: float) -> tuple[subprocess.Popen[str], int]:
    """The loopback Twilio stand-in in a process of its own, and its port."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.twilio_server", "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, int(server.stdout.readline())


def channel_headers() -> dict[str, str]:
    """The headers the SMS channel sends with a message (the twilio client's, requests'
    defaults, basic auth), made once: the floor posts them as they are."""
    from twilio.rest import Client

    from notifier.channels.pooled_http import DEFAULT_HEADERS

    form_type = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    return {**DEFAULT_HEADERS, **Client(SID, TOKEN).get_headers("POST", form_type),
            "Authorization": urllib3.make_headers(basic_auth=f"{SID}:{TOKEN}")["authorization"]}


def form(to: str, text: str) -> str:
    """The form the SMS channel posts for a message."""
    return urlencode({"To": to, "ValidityPeriod": 14400, "From": SENDER, "Body": text})


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
    client = Client(SID, TOKEN, http_client=http)
    client.api.base_url = api
    return lambda n: client.messages.create(to=f"+8491{n:07d}", from_=SENDER, body=TEXT,
                                            validity_period=14400)


def _channel(api: str) -> Callable[[int], object]:
    from notifier.channels.base import Message
    from notifier.channels.sms import SmsChannel

    channel = SmsChannel(account_sid=SID, auth_token=TOKEN, from_number=SENDER, api_url=api)
    return lambda n: channel.send(Message(id=n, key=f"k{n}", channel="sms",
                                          recipient=f"+8492{n:07d}", language="vi",
                                          kind="fault_ack", body=TEXT))


def _bare(port: int) -> Callable[[int], object]:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1)
    headers = channel_headers()
    return lambda n: pool.urlopen("POST", PATH, body=form(f"+8493{n:07d}", TEXT),
                                  headers=headers, retries=False)
