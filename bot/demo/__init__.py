"""``exports-bot demo``: the whole bot on one machine, with a terminal in place of Slack.

One process runs the seeded Peaka simulator on a fast clock, the real bot (the same app,
listeners, poller, store and Peaka client as ``exports-bot run``) and a terminal front end
that sends the bot signed requests as Slack would and prints what it sends back::

    from bot.demo import DemoOptions, run_demo
    exit_code = run_demo(DemoOptions(for_seconds=5))
"""

from __future__ import annotations

from bot.demo._main import DemoOptions, demo_settings, run_demo
from bot.demo._terminal import HELP

__all__ = ["HELP", "DemoOptions", "demo_settings", "run_demo"]
