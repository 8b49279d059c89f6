"""Demo data for ``Simulator.seeded``: projects, users, well-known keys, jobs in every status."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.simulator._sources import HUBSPOT_CATALOG, PEAKA_CATALOG
from bot.simulator._state import ROW_LIMIT_ERROR, TRINO_ERRORS, Simulator

__all__ = ["SEED_KEYS", "SEED_PROJECTS", "populate"]

# alias -> project id
SEED_PROJECTS = {"analytics": "mtKDhe1U", "billing": "Xr7pQ2Lm", "marketing": "Gh3sV9tB"}
# name -> (key, email, project alias or None for a partner key). Fixed, so demos can paste them.
SEED_KEYS: dict[str, tuple[str, str, str | None]] = {
    "ana-partner": ("hBWIQxjcAnaPartnerDemoKey00000000000001", "ana@example.com", None),
    "ben-analytics": ("bEnAnLytBenAnalyticsDemoKey000000000002", "ben@example.com", "analytics"),
    "cy-partner": ("cYpArTnRCyPartnerDemoKey0000000000000003", "cy@example.com", None),
    "cy-billing": ("cYbIlLngCyBillingDemoKey0000000000000004", "cy@example.com", "billing"),
    "dee-marketing": ("dEeMkTngDeeMarketingDemoKey000000000005", "dee@example.com", "marketing"),
}

_CHARGES_VIEW = "709922802836177297"
_REVENUE = "709922802836177298"
_CHARGES = f"{PEAKA_CATALOG}/payment/charges"
_CUSTOMERS = f"{PEAKA_CATALOG}/payment/customers"
_PAGEVIEWS = f"{PEAKA_CATALOG}/web/pageviews"
_CONTACTS = f"{HUBSPOT_CATALOG}/crm/contacts"
_CLIENTS = ("peaka-studio", "peaka-api", "python-httpx/0.28.1", "exports-bot/0.1.0", "trino-cli")


def populate(sim: Simulator) -> None:
    """Fill an empty simulator with the demo world (deterministic for a given seed).

    Sets ``sim.seed_keys`` (name -> key), ``sim.seed_projects`` (alias -> id) and
    ``sim.seed_users`` (email -> SimUser).
    """
    rng = random.Random(f"seed-data:{sim.seed}")
    now = sim.clock.now()
    for alias, project_id in SEED_PROJECTS.items():
        sim.add_project(project_id, alias)
        sim.seed_projects[alias] = project_id
    for email in ("ana@example.com", "ben@example.com", "cy@example.com", "dee@example.com"):
        sim.seed_users[email] = sim.add_user(email)
    for name, (value, email, scope_alias) in SEED_KEYS.items():
        scope = SEED_PROJECTS[scope_alias] if scope_alias else None
        sim.seed_keys[name] = sim.add_key(sim.seed_users[email], scope, value=value)

    def ago(seconds: float) -> timedelta:
        # Microsecond-precise timestamps, as the API writes them.
        return timedelta(seconds=seconds, microseconds=rng.randrange(1_000_000))

    analytics, billing, marketing = SEED_PROJECTS.values()
    job = sim.create_job

    # fmt: off
    # Active right now.
    job(analytics, "ana@example.com", source=_CHARGES_VIEW, format="JSONL", rows=993,
        created_at=now - ago(20), pending_seconds=120, run_seconds=300,
        client_source="exports-bot/0.1.0")
    job(analytics, "ben@example.com", source=_CHARGES, compression="GZIP", rows=25_000,
        created_at=now - ago(120), pending_seconds=5, run_seconds=12 * 60,
        client_source="peaka-api")  # finishes about ten minutes from now
    job(analytics, "ana@example.com", source=_CUSTOMERS, rows=4_200,
        created_at=now - ago(60), pending_seconds=2, run_seconds=90)
    # Finished, with files.
    job(analytics, "ana@example.com", source=_CHARGES_VIEW, format="JSONL", rows=993,
        created_at=now - ago(15 * 60), run_seconds=1.055)
    job(analytics, "ben@example.com", source=_CUSTOMERS, compression="GZIP", rows=4_200,
        created_at=now - ago(40 * 60), run_seconds=7.4, client_source="peaka-api")
    job(analytics, "ana@example.com", source=_REVENUE, rows=48,
        created_at=now - ago(23 * 3_600 + 50 * 60 + 3),
        pending_seconds=1, run_seconds=2)  # expires about ten minutes from now
    # Failed and cancelled.
    job(analytics, "ana@example.com", source=_PAGEVIEWS, outcome="FAILED", error=ROW_LIMIT_ERROR,
        created_at=now - ago(3_600), run_seconds=48.2)
    job(analytics, "ben@example.com", source=_CHARGES, outcome="FAILED", error=TRINO_ERRORS[0],
        created_at=now - ago(2 * 3_600), run_seconds=95.0, client_source="trino-cli")
    cancelled = job(analytics, "cy@example.com", source=_CHARGES, format="JSONL", rows=25_000,
                    created_at=now - ago(3 * 3_600), run_seconds=600)
    cancelled.cancelled_at = cancelled.created_at + timedelta(seconds=31)
    # Two jobs submitted in the same microsecond: list order falls back to id.
    tie = now - ago(5 * 3_600)
    job(analytics, "ana@example.com", source=_CHARGES_VIEW, rows=993, created_at=tie)
    job(analytics, "ben@example.com", source=_CHARGES_VIEW, format="JSONL", rows=993,
        created_at=tie, client_source="peaka-api")
    # Expired: artifacts removed by the lifecycle rule.
    job(analytics, "ana@example.com", source=_CHARGES, rows=12_000,
        created_at=now - ago(30 * 3_600))
    job(analytics, "ben@example.com", source=_CONTACTS, format="JSONL", compression="GZIP",
        rows=1_250, created_at=now - ago(3 * 86_400))
    # History, so the list has more than one page.
    users = ["ana@example.com", "ben@example.com", "cy@example.com"]
    sources = [_CHARGES_VIEW, _REVENUE, _CHARGES, _CUSTOMERS, _CONTACTS]
    for i in range(48):
        failed = rng.random() < 0.2
        history = job(
            analytics,
            rng.choice(users),
            source=rng.choice(sources),
            format=rng.choice(("CSV", "JSONL")),
            compression=rng.choice(("NONE", "GZIP")),
            rows=rng.randrange(10, 2_000),
            outcome="FAILED" if failed else "SUCCEEDED",
            error=rng.choice(TRINO_ERRORS[:3]) if failed else None,
            created_at=now - ago(2 * 86_400 + i * 5_400 + rng.randrange(3_000)),
            run_seconds=round(rng.uniform(0.8, 40.0), 3),
            client_source=rng.choice(_CLIENTS),
        )
        if rng.random() < 0.08:
            history.cancelled_at = history.created_at + timedelta(seconds=1)

    # Billing: cy's project.
    job(billing, "cy@example.com", source=_CHARGES, format="JSONL", rows=25_000,
        created_at=now - ago(10 * 60), run_seconds=14.9, client_source="peaka-api")
    job(billing, "cy@example.com", source=_CUSTOMERS, outcome="FAILED", error=TRINO_ERRORS[2],
        created_at=now - ago(50 * 60), run_seconds=61.0)
    job(billing, "ana@example.com", source=_REVENUE, rows=48, created_at=now - ago(90),
        pending_seconds=3, run_seconds=240)
    job(billing, "cy@example.com", source=_PAGEVIEWS, outcome="FAILED", error=ROW_LIMIT_ERROR,
        created_at=now - ago(26 * 3_600), run_seconds=52.0)
    # Marketing: dee's project.
    job(marketing, "dee@example.com", source=_CONTACTS, rows=1_250, created_at=now - ago(5 * 60),
        run_seconds=3.2, client_source="peaka-studio")
    job(marketing, "dee@example.com", source=_CONTACTS, format="JSONL", compression="GZIP",
        rows=1_250, created_at=now - ago(30), pending_seconds=10, run_seconds=45)
    job(marketing, "ana@example.com", source=_CHARGES_VIEW, rows=993,
        created_at=now - ago(2 * 86_400))
    # fmt: on
