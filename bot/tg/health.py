"""Container health check: ``python -m bot.tg.health`` exits 0 while the bot's heartbeat is fresh.

The running bot touches ``$FAQBOT_DATA_DIR/heartbeat`` every minute while it receives updates
(:func:`bot.tg.app.heartbeat_job`). No token is needed and nothing talks to the network.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.config import HEARTBEAT_FILENAME

MAX_AGE_SECONDS = 180


def heartbeat_age(data_dir: Path, now: float | None = None) -> float | None:
    """Seconds since the last heartbeat, or None if there is none."""
    try:
        stamp = (data_dir / HEARTBEAT_FILENAME).stat().st_mtime
    except OSError:
        return None
    return max(0.0, (time.time() if now is None else now) - stamp)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] = os.environ) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    max_age = float(args[0]) if args else MAX_AGE_SECONDS
    data_dir = Path(env.get("FAQBOT_DATA_DIR", "").strip() or "data")
    age = heartbeat_age(data_dir)
    if age is None:
        print(f"unhealthy: no heartbeat in {data_dir}", file=sys.stderr)
        return 1
    if age > max_age:
        print(f"unhealthy: last heartbeat {age:.0f} s ago", file=sys.stderr)
        return 1
    print(f"healthy: last heartbeat {age:.0f} s ago")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
