"""Benchmarks: poll cost, alert latency, command overhead and scale, each next to its floor.

Run ``python -m bench`` (full) or ``python -m bench --quick`` (CI); see ``bench/README.md``.
Everything runs on loopback: the Peaka simulator and the Slack stand-in live in a child
process (``bench._host``), the bot under test in another (one per section), so CPU time and
peak RSS measure the bot alone.
"""
