"""Send rate of a milestone announcement vs. the configured rate limit (goal: ≥ 90 % of it, never above).

Run: .venv/bin/python benchmarks/bench_broadcast.py [--groups 600] [--rate 30] [--latency 0.05] [--rounds 3]
     [--concurrency 8] [--floods 0] [--limiter faqbot|ptb]

The fake Bot API (tests/support/fake_bot_api.py) runs in a child process and answers every sendMessage after
``--latency`` seconds (Telegram itself takes ~50–300 ms); this process runs the real sender
(:func:`bot.tg.announce.deliver`, the outbox in SQLite with ``synchronous = FULL``, the bot's
:class:`~bot.tg.app.RetryingRateLimiter` as configured by :func:`bot.tg.app.smooth_rate_limiter`) against N
subscribed groups. Reported per round: the achieved rate (messages from the first to the last arrival at the
fake, divided by that time), the most messages the fake saw within any 1-second window, and the per-group
maximum. ``--rate 30`` is Telegram's real limit and the bot's production setting. ``--floods N`` makes the fake
answer 429 (``retry_after`` 1) to every sendMessage for one second, N times per round (evenly spread), as
Telegram does once a limit is hit: the window after each pause shows whether the sender bursts. ``--limiter ptb``
runs python-telegram-bot's own ``AIORateLimiter`` with the same buckets, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _fake_process(conn: Connection, latency: float, groups: int, floods: int) -> None:
    asyncio.run(_fake_main(conn, latency, groups, floods))


async def _fake_main(conn: Connection, latency: float, groups: int, floods: int) -> None:
    from tests.support.fake_bot_api import FakeBotApi, Fault

    slow = Fault("latency", delay=latency, process_after_delay=True) if latency > 0 else None
    flood_starts = {groups * k // (floods + 1) for k in range(1, floods + 1)}
    count = 0
    flood_until = 0.0

    def plan(method: str, params: object) -> Fault | None:
        nonlocal count, flood_until
        if method != "sendMessage":
            return None
        count += 1
        now = time.monotonic()
        if count in flood_starts:
            flood_until = now + 1.0
        return Fault.retry_after(1) if now < flood_until else slow

    async with FakeBotApi() as fake:
        fake.fault_plan(plan)
        conn.send(fake.base_url)
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "stats":
                times = fake.send_times(successful_only=True)
                conn.send(
                    {
                        "sent": len(times),
                        "span": (times[-1] - times[0]) if len(times) > 1 else 0.0,
                        "max_1s": fake.max_rate_global(1.0),
                        "max_group_60s": fake.max_rate_per_chat(60.0),
                        "rejections": len(fake.rejections),
                        "retry_after": sum(1 for c in fake.calls_of("sendMessage") if c.status == 429),
                    }
                )
                fake.clear()
                count = 0
            else:
                return


async def _round(base_url: str, groups: int, rate: float, concurrency: int, limiter_kind: str, tmp: Path) -> float:
    from telegram.ext import AIORateLimiter, ApplicationBuilder

    from bot.broadcast import Outbox
    from bot.service import FaqService
    from bot.storage import Store
    from bot.tg.announce import deliver
    from bot.tg.app import smooth_bucket, smooth_rate_limiter
    from tests.support.fake_bot_api import TOKEN

    db = tmp / "faqbot.sqlite3"
    db.unlink(missing_ok=True)
    with Store.open(db) as store:
        for i in range(groups):
            store.subscribe(-100_000 - i, f"Gruppe {i}")
    milestone = FaqService.from_directory(ROOT / "knowledge").knowledge.milestones["schul-it-wechsel"]
    if limiter_kind == "ptb":
        max_rate, period = smooth_bucket(rate)
        limiter: AIORateLimiter = AIORateLimiter(overall_max_rate=max_rate, overall_time_period=period, max_retries=3)
    else:
        limiter = smooth_rate_limiter(rate)
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(base_url)
        .rate_limiter(limiter)
        .updater(None)
        .connection_pool_size(64)
        .build()
    )
    with Outbox(db) as outbox:
        aid, _ = outbox.create(milestone.id, milestone.tags, "cli")
        async with app:
            started = time.perf_counter()
            report = await deliver(app.bot, outbox, aid, milestone, concurrency=concurrency)
            elapsed = time.perf_counter() - started
    assert report.sent == groups, report
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=600)
    parser.add_argument("--rate", type=float, default=30.0, help="configured overall limit, messages/s")
    parser.add_argument("--latency", type=float, default=0.05, help="fake Bot API answer delay, seconds")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--floods", type=int, default=0, help="one-second 429 floods per round")
    parser.add_argument("--limiter", choices=("faqbot", "ptb"), default="faqbot", help="ptb: PTB's own limiter")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    parent, child = mp.Pipe()
    fake = mp.get_context("spawn").Process(
        target=_fake_process, args=(child, args.latency, args.groups, args.floods), daemon=True
    )
    fake.start()
    base_url = parent.recv()
    rates: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(1, args.rounds + 1):
                elapsed = asyncio.run(
                    _round(base_url, args.groups, args.rate, args.concurrency, args.limiter, Path(tmp))
                )
                parent.send("stats")
                stats = parent.recv()
                achieved = (stats["sent"] - 1) / stats["span"] if stats["span"] else float("nan")
                rates.append(achieved)
                print(
                    f"round {n}: {stats['sent']} messages in {elapsed:.1f} s; achieved {achieved:.1f} msg/s"
                    f" = {100 * achieved / args.rate:.1f} % of {args.rate:g}/s; max in any 1 s window:"
                    f" {stats['max_1s']}; max per group in 60 s: {stats['max_group_60s']};"
                    f" 429 answers: {stats['retry_after']}; rejections: {stats['rejections']}"
                )
    finally:
        parent.send("stop")
        fake.join(5)
    median = statistics.median(rates)
    print(
        f"median achieved rate: {median:.1f} msg/s = {100 * median / args.rate:.1f} % of the configured"
        f" {args.rate:g}/s (goal ≥ 90 %, never above)"
    )
    flags = f"--groups {args.groups} --rate {args.rate:g} --latency {args.latency:g} --rounds {args.rounds}"
    if args.concurrency != 8:
        flags += f" --concurrency {args.concurrency}"
    if args.floods:
        flags += f" --floods {args.floods}"
    if args.limiter != "faqbot":
        flags += f" --limiter {args.limiter}"
    print(f"command: .venv/bin/python benchmarks/bench_broadcast.py {flags}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
