"""End-to-end throughput and memory of the Telegram bot against the loopback fake Bot API.

Run: .venv/bin/python benchmarks/bench_telegram.py [--updates 3000] [--rounds 3] [--production-limits] [--baseline]

The fake Bot API (tests/support/fake_bot_api.py) runs in a child process; this process runs the real bot —
``build_application`` with the real knowledge, a SQLite store in a temporary directory, long polling — so the
peak RSS reported is the bot's alone. N private questions from 500 different users (answer, clarify,
fallback and smalltalk cases) are queued at once; the clock runs from queuing until the fake has recorded
all N replies. Every update is de-duplicated, matched, logged to SQLite and answered with HTML + buttons.

By default Telegram's global cap of 30 messages/s (PTB's AIORateLimiter, which the bot uses in production) is
lifted so that the bot's own capacity is measured; ``--production-limits`` keeps it (throughput then is
~30 updates/s by design). Goals: ≥ 300 updates/s on 2 cores, peak RSS < 120 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = (
    "Wann wechselt die Schul-IT?",
    "Was macht das neue Amt für Digitalisierung?",
    "Wer leitet das Amt?",
    "Was ist die KGSt?",
    "What does the new digital office do?",
    "Schule",  # clarify
    "Wie backe ich einen Kuchen?",  # fallback
    "Hallo",  # smalltalk
    "Welches Dezernat?",
    "Was hat der Gemeinderat beschlossen?",
)
USERS = 500


# ------------------------------------------------------------------------------------- the fake (child)


def _fake_process(conn: Connection) -> None:
    asyncio.run(_fake_main(conn))


async def _fake_main(conn: Connection) -> None:
    from tests.support import updates as U
    from tests.support.fake_bot_api import FakeBotApi

    loop = asyncio.get_running_loop()
    async with FakeBotApi(max_poll_wait=1.0) as fake:
        conn.send(("ready", fake.base_url))
        while True:
            message = await loop.run_in_executor(None, conn.recv)
            if message[0] == "stop":
                return
            _, count = message
            first_call = len(fake.calls)
            started = time.perf_counter()
            for i in range(count):
                user = 100_000 + i % USERS
                fake.push_update(U.private_text(QUESTIONS[i % len(QUESTIONS)], user, language_code="de"))
            while _sent(fake, first_call) < count:
                if time.perf_counter() - started > 300:
                    break
                await asyncio.sleep(0.02)
            elapsed = time.perf_counter() - started
            texts = [c.params.get("text", "") for c in fake.calls[first_call:] if c.method == "sendMessage"]
            conn.send(
                (
                    "done",
                    elapsed,
                    _sent(fake, first_call),
                    len(fake.rejections),
                    max((len(t) for t in texts), default=0),
                    sum(1 for c in fake.calls[first_call:] if c.status not in (200, None)),
                )
            )


def _sent(fake: Any, first_call: int = 0) -> int:
    return sum(1 for c in fake.calls[first_call:] if c.method == "sendMessage" and c.ok)


# ---------------------------------------------------------------------------------------- the bot (parent)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


async def _measure(conn: Connection, updates: int, rounds: int) -> list[tuple[float, int, int, int, int, float]]:
    """A warm-up, then ``rounds`` measured runs.

    Each run: (elapsed, answered, rejections, longest text, error responses, CPU seconds of this process)."""
    loop = asyncio.get_running_loop()
    runs = []
    for count in (min(200, updates), *[updates] * rounds):
        cpu = time.process_time()
        conn.send(("go", count))
        _, elapsed, answered, rejections, longest, errors = await loop.run_in_executor(None, conn.recv)
        runs.append((elapsed, answered, rejections, longest, errors, time.process_time() - cpu))
    return runs[1:]


async def _bot_main(
    conn: Connection, base_url: str, updates: int, rounds: int, production_limits: bool, concurrency: int, pool: int
) -> list[tuple[float, int, int, int, int, float]]:
    from telegram.ext import ApplicationBuilder
    from telegram.request import HTTPXRequest

    from bot.config import Settings
    from bot.service import FaqService
    from bot.storage import Store
    from bot.tg.app import RetryingRateLimiter, build_application
    from tests.support.fake_bot_api import TOKEN
    from tests.support.lifecycle import polling

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(token=TOKEN, base_url=base_url, data_dir=Path(tmp), knowledge_dir=ROOT / "knowledge")
        service = FaqService.from_directory(settings.knowledge_dir)
        store = Store.open(settings.db_path)
        builder = (
            ApplicationBuilder()
            .request(HTTPXRequest(connection_pool_size=pool, httpx_kwargs={"trust_env": False}))
            .get_updates_request(HTTPXRequest(httpx_kwargs={"trust_env": False}))
        )
        limiter = None if production_limits else RetryingRateLimiter(overall_max_rate=0, group_max_rate=0)
        app = build_application(
            settings, service, store, builder=builder, rate_limiter=limiter, concurrency=concurrency
        )
        async with polling(app):
            return await _measure(conn, updates, rounds)


async def _baseline_main(
    conn: Connection, base_url: str, updates: int, rounds: int, concurrency: int, pool: int
) -> list[tuple[float, int, int, int, int, float]]:
    """For comparison: a bare PTB echo bot (no rate limiter, no database, no knowledge) on the same fake."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
    from telegram.request import HTTPXRequest

    from tests.support.fake_bot_api import TOKEN
    from tests.support.lifecycle import polling

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(base_url)
        .request(HTTPXRequest(connection_pool_size=pool, httpx_kwargs={"trust_env": False}))
        .get_updates_request(HTTPXRequest(httpx_kwargs={"trust_env": False}))
        .concurrent_updates(concurrency)
        .build()
    )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with polling(app):
        return await _measure(conn, updates, rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=3000, help="private questions in the measured run")
    parser.add_argument("--production-limits", action="store_true", help="keep Telegram's 30 messages/s cap")
    parser.add_argument("--concurrency", type=int, default=None, help="concurrent updates (default: the bot's)")
    parser.add_argument("--pool", type=int, default=None, help="HTTP connection pool size (default: the bot's)")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs (the median is reported)")
    parser.add_argument("--baseline", action="store_true", help="measure a bare PTB echo bot instead, for comparison")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_fake_process, args=(child,), daemon=True)
    proc.start()
    try:
        _, base_url = parent.recv()
        from bot.tg.app import DEFAULT_CONCURRENCY, DEFAULT_POOL_SIZE

        concurrency = args.concurrency or DEFAULT_CONCURRENCY
        pool = args.pool or DEFAULT_POOL_SIZE
        if args.baseline:
            runs = asyncio.run(_baseline_main(parent, base_url, args.updates, args.rounds, concurrency, pool))
        else:
            runs = asyncio.run(
                _bot_main(parent, base_url, args.updates, args.rounds, args.production_limits, concurrency, pool)
            )
        parent.send(("stop",))
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
    rss = _rss_mb()
    rates = sorted(answered / elapsed for elapsed, answered, *_ in runs)
    flags = " --baseline" if args.baseline else " --production-limits" if args.production_limits else ""
    print(
        f"command: .venv/bin/python benchmarks/bench_telegram.py --updates {args.updates} --rounds {args.rounds}{flags}"
    )
    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}  concurrency: {concurrency}  pool: {pool}")
    what = "bare PTB echo bot (baseline)" if args.baseline else "faqbot"
    limits = "production (30 msg/s overall)" if args.production_limits else "global cap lifted"
    print(f"measured: {what}; rate limits: {limits if not args.baseline else 'none'}")
    print(
        f"throughput: median {statistics.median(rates):.0f} updates/s (runs: {', '.join(f'{r:.0f}' for r in rates)};"
        f" {args.updates} updates each; goal >= 300)"
    )
    cpu_ms = statistics.median(r[5] / r[1] * 1000 for r in runs if r[1])
    print(f"CPU of the bot process: median {cpu_ms:.2f} ms per update (1 core = {1000 / cpu_ms:.0f} updates/s)")
    print(f"peak RSS of the bot process: {rss:.1f} MB (goal < 120 MB)")
    answered = sum(r[1] for r in runs)
    rejections = sum(r[2] for r in runs)
    errors = sum(r[4] for r in runs)
    longest = max(r[3] for r in runs)
    print(
        f"fake: {answered}/{args.updates * args.rounds} answered, {rejections} rejections, {errors} error responses,"
        f" longest message {longest} chars"
    )
    ok = answered == args.updates * args.rounds and rejections == 0 and rss < 120
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
