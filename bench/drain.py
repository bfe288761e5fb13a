"""Draining a typhoon's SMS: `outages run` workers (separate processes) against the loopback
Twilio stand-in, beside the floor of bare HTTP posts at the same total concurrency.

The floor runs first, from as many processes as there are workers, each with the same number
of threads as a worker's pool, each thread posting over and over the request the SMS channel
makes (the same headers, form fields and a queued notice's text) through the same connection
pool, with nothing else around it. Then the workers run for a fixed time (a sample of the queue),
are stopped with SIGTERM (they finish and record what is in flight), and the stand-in's count
of accepted messages and of different numbers is checked against the outbox.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from sqlalchemy import Engine, text

from bench.machine import cpu_seconds, peak_rss_mb, postgres_pids
from bench.sms import PATH, channel_headers, form, start_stand_in

WARM_UP = 5.0  # seconds before the rate is measured (imports, first claims)
Environment = Callable[[str, str, int], dict[str, str]]


def drain(engine: Engine, url: str, environment: Environment, args: argparse.Namespace,
          queued: int) -> None:
    server, port = start_stand_in(args.latency)
    api_url = f"http://127.0.0.1:{port}"
    try:
        total = args.workers * args.concurrency
        with engine.connect() as conn:
            body = str(conn.execute(text("SELECT body FROM outbox WHERE channel = 'sms' "
                                         "AND status = 'pending' LIMIT 1")).scalar_one())
        floor, floor_cpu = _floor(api_url, server.pid, args.workers, args.concurrency,
                                  min(args.drain_seconds, 20.0), body)
        before = _stats(api_url)["count"]
        sent_before = _sent(engine)
        rate, rss, seconds, cpu = _workers(url, environment(url, api_url, args.concurrency),
                                           args, api_url, server.pid)
        stats = _stats(api_url)
        sent = stats["count"] - before
        recorded = _sent(engine) - sent_before  # an earlier drain's are not this one's
        with engine.connect() as conn:
            left = int(conn.execute(text(
                "SELECT count(*) FROM outbox WHERE channel = 'sms' "
                "AND status IN ('pending', 'sending')")).scalar_one())
        distinct = stats["recipients"] - (stats["count"] - sent)
        once = sent == recorded == distinct
        print(f"drain   : {args.workers} workers x {args.concurrency} = {total} concurrent, "
              f"{seconds:.0f} s sample of {queued:,} SMS: {rate:,.0f} msg/s after a {WARM_UP:.0f}"
              f" s warm-up; floor {floor:,.0f} posts/s (bare HTTP, {total} concurrent): "
              f"{rate / floor:.0%} of the floor (target >= 90%: {_verdict(rate >= 0.9 * floor)})")
        print(f"  once  : stand-in accepted {sent:,} to {distinct:,} different numbers, outbox "
              f"records {recorded:,} more sent ({left:,} still queued): "
              f"{'each exactly once' if once else 'MISMATCH'}")
        print(f"  cpu   : ms per message: floor {floor_cpu['client']:.2f} client + "
              f"{floor_cpu['stand-in']:.2f} stand-in; workers {cpu['workers']:.2f} + "
              f"{cpu['stand-in']:.2f} stand-in + {cpu['postgres']:.2f} PostgreSQL")
        print(f"  memory: worker peak RSS {', '.join(f'{r:.0f}' for r in rss)} MB (target < 500 "
              f"MB: {_verdict(max(rss) < 500)})", flush=True)
    finally:
        server.terminate()
        server.wait()


def _sent(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM outbox WHERE channel = 'sms' "
            "AND status IN ('sent', 'delivered')")).scalar_one())


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def _stats(api_url: str) -> dict[str, int]:
    answer = requests.get(f"{api_url}/stats", timeout=10)
    answer.raise_for_status()
    return dict(answer.json())


def _floor(api_url: str, server: int, processes: int, threads: int, seconds: float,
           body: str) -> tuple[float, dict[str, float]]:
    """Posts per second from `processes` x `threads` bare HTTP posters, and the CPU each
    post took (ms) in the posters and in the stand-in."""
    children = [subprocess.Popen([sys.executable, "-m", "bench.drain", "--child-floor", api_url,
                                  str(threads), str(seconds), body], stdout=subprocess.PIPE,
                                 text=True)
                for _ in range(processes)]
    time.sleep(min(WARM_UP, seconds / 4) + 0.5)  # the children's own warm-up, and start-up
    window = _sample(api_url, [server])
    answers = []
    for child in children:
        output, _ = child.communicate()
        answers.append(json.loads(output.strip().splitlines()[-1]))
    posts = sum(a["posts"] for a in answers)
    return sum(a["rate"] for a in answers), {
        "client": 1000 * sum(a["cpu"] for a in answers) / max(1, posts),
        "stand-in": _per_message(window, _sample(api_url, [server]))}


def _sample(api_url: str, pids: list[int]) -> tuple[int, float]:
    """The stand-in's count of accepted messages, and the CPU seconds `pids` have used."""
    return _stats(api_url)["count"], cpu_seconds(pids)


def _per_message(before: tuple[int, float], after: tuple[int, float]) -> float:
    """CPU ms per accepted message between two samples."""
    return 1000 * (after[1] - before[1]) / max(1, after[0] - before[0])


def _child_floor(api_url: str, threads: int, seconds: float, text: str) -> None:
    """Post for `seconds` from `threads` threads; the rate after the warm-up. Each post is
    the request the SMS channel makes, its headers made once: the bare HTTP exchange."""
    from notifier.channels.pooled_http import pool_manager

    pool = pool_manager(api_url, threads).connection_from_url(api_url)
    headers = channel_headers()
    counts = [0] * threads
    start = time.perf_counter()
    measure_from, stop = start + min(WARM_UP, seconds / 4), start + seconds
    marks: list[tuple[int, float]] = []
    pid = os.getpid()

    def post(k: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            answer = pool.urlopen("POST", PATH, body=form(f"+1{pid}{k:03d}{n:08d}", text),
                                  headers=headers, retries=False, timeout=10)
            if answer.status >= 400:
                raise SystemExit(f"the stand-in answered {answer.status}: {answer.data!r}")
            n += 1
            counts[k] = n

    def mark() -> None:
        time.sleep(max(0.0, measure_from - time.perf_counter()))
        marks.append((sum(counts), time.process_time()))

    marker = threading.Thread(target=mark)
    marker.start()
    with ThreadPoolExecutor(threads) as posters:
        list(posters.map(post, range(threads)))
    marker.join()
    posts = sum(counts) - marks[0][0]
    print(json.dumps({"rate": posts / (stop - measure_from), "posts": posts,
                      "cpu": time.process_time() - marks[0][1]}))


def _workers(url: str, environ: dict[str, str], args: argparse.Namespace, api_url: str,
             server: int) -> tuple[float, list[float], float, dict[str, float]]:
    outages = Path(sys.executable).with_name("outages")
    env = {**os.environ, **environ}
    started = time.perf_counter()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / "bench-scale-workers.log"
    with log.open("w") as sink:  # their warnings and summaries, out of the figures
        workers = [subprocess.Popen([str(outages), "run"], env=env, stdout=sink, stderr=sink)
                   for _ in range(args.workers)]
    time.sleep(WARM_UP)
    ended = [w.pid for w in workers if w.poll() is not None]
    if ended:
        for worker in workers:
            worker.terminate()
            worker.wait()
        raise SystemExit(f"workers {ended} stopped at start: see {log}")
    groups = {"workers": [w.pid for w in workers], "stand-in": [server],
              "postgres": postgres_pids()}
    first = {name: _sample(api_url, pids) for name, pids in groups.items()}
    measured = time.perf_counter()
    time.sleep(max(0.0, args.drain_seconds - WARM_UP))
    last = {name: _sample(api_url, pids) for name, pids in groups.items()}
    rate = (last["workers"][0] - first["workers"][0]) / (time.perf_counter() - measured)
    cpu = {name: _per_message(first[name], last[name]) for name in groups}
    peaks = [peak_rss_mb(worker.pid) for worker in workers]  # before they exit
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        status = worker.wait()
        if status != 0:
            print(f"  worker {worker.pid} ended with status {status}")
    return rate, peaks, time.perf_counter() - started, cpu


if __name__ == "__main__" and sys.argv[1:2] == ["--child-floor"]:
    _child_floor(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
