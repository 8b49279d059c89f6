"""``python -m tests.poller_proc``: the real poller in its own process, one cycle per stdin line.

The test process hosts the simulator and the Slack stand-in and owns the simulated clock, so
this process builds the production pieces (settings from the environment, ``Store.open``,
``build_slack_client``, ``EmailDirectory``, ``Poller``) and then waits for commands:

    cycle <unix time>   set the clock to that instant, run one cycle, print "done <json>"

It prints "ready" once built. Environment: the bot's usual variables plus POLLER_INSTANCE
(the poller's instance id), POLLER_DB_SCHEMA (PostgreSQL schema, optional) and POLLER_START
(the clock's first instant, unix seconds).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime

from bot.app import Services, build_slack_client
from bot.poller import Poller
from bot.settings import load_settings
from bot.slack_users import EmailDirectory
from bot.store import Store


async def main() -> int:
    env = dict(os.environ)
    settings = load_settings(env)
    now = [datetime.fromtimestamp(float(env["POLLER_START"]), UTC)]

    def clock() -> datetime:
        return now[0]

    store = await Store.open(
        settings.database_url, schema=env.get("POLLER_DB_SCHEMA") or None, clock=clock
    )
    services = Services.from_settings(settings, store=store, clock=clock)
    services.slack = build_slack_client(settings)
    services.users = EmailDirectory(services.slack)
    poller = Poller(
        services,
        instance_id=env["POLLER_INSTANCE"],
        monotonic=lambda: clock().timestamp(),
    )
    print("ready", flush=True)
    try:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return 0
            command, _, argument = line.strip().partition(" ")
            if command != "cycle":
                print(f"error unknown command {command!r}; expected: cycle <unix time>", flush=True)
                continue
            now[0] = datetime.fromtimestamp(float(argument), UTC)
            report = await poller.run_cycle()
            summary = {
                "polled": report.polled,
                "failed": report.failed,
                "claimed": report.claimed,
                "leftovers": report.leftovers,
            }
            print("done " + json.dumps(summary), flush=True)
    finally:
        await services.aclose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
