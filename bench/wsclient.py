"""The WebSocket side of scenario 5, run as its own process (asyncio, `websockets`).

    python bench/wsclient.py CONFIG.json

CONFIG: {"url": "ws://127.0.0.1:PORT/ws/missions/", "sockets": [[user_id, token], ...],
         "open_concurrency": 50, "seconds": 20}
Opens one socket per entry (`?token=`, no Origin: a non-browser client), prints `READY <n>`
on stdout once they are all open, then records the wall-clock time (time.time(), the clock
the producer stamps commits with) at which each `mission:progress` message arrives, for
`seconds`, and prints one JSON line: {"opened", "failed", "received", "closed_early",
"close_codes", "receipts": [[user_id, mission_id, requirement, current, t], ...]}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from websockets.asyncio.client import connect


async def main(config: dict[str, Any]) -> dict[str, Any]:
    url = config["url"]
    sockets = config["sockets"]
    seconds = float(config["seconds"])
    slots = asyncio.Semaphore(int(config.get("open_concurrency", 50)))
    receipts: list[list[Any]] = []
    opened = 0
    failed: list[str] = []
    closed_early = 0
    close_codes: dict[str, int] = {}
    all_open = asyncio.Event()
    stop = asyncio.Event()
    pending = len(sockets)

    def one_done() -> None:
        nonlocal pending
        pending -= 1
        if pending == 0:
            all_open.set()

    async def listen(user_id: int, token: str) -> None:
        nonlocal opened, closed_early
        try:
            async with slots:
                ws = await connect(f"{url}?token={token}", open_timeout=60, max_queue=None)
        except Exception as exc:
            failed.append(f"{type(exc).__name__}: {exc}"[:200])
            one_done()
            return
        opened += 1
        one_done()
        try:
            async with ws:
                reader = asyncio.ensure_future(_read(ws, user_id, receipts))
                stopper = asyncio.ensure_future(stop.wait())
                done, _ = await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    closed_early += 1
                    code = str(ws.close_code)
                    close_codes[code] = close_codes.get(code, 0) + 1
                for task in (reader, stopper):
                    task.cancel()
        except Exception:
            closed_early += 1

    tasks = [asyncio.ensure_future(listen(int(u), str(t))) for u, t in sockets]
    await all_open.wait()
    print(f"READY {opened}", flush=True)
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "opened": opened,
        "failed": len(failed),
        "failures": failed[:5],
        "closed_early": closed_early,
        "close_codes": close_codes,
        "received": len(receipts),
        "receipts": receipts,
    }


async def _read(ws: Any, user_id: int, receipts: list[list[Any]]) -> None:
    async for raw in ws:
        now = time.time()
        message = json.loads(raw)
        if message.get("type") == "mission:progress":
            receipts.append(
                [user_id, message["missionId"], message["requirement"], message["current"], now]
            )


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        cfg = json.load(handle)
    print(json.dumps(asyncio.run(main(cfg))), flush=True)
