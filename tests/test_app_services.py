"""Services: what listeners get through context["services"]."""

from __future__ import annotations

from bot.app import Services
from bot.peaka import Status
from tests.conftest import RunningSimulator


async def test_peaka_for_uses_the_bots_key_and_shares_clients(
    bot_services: Services, simulator: RunningSimulator
) -> None:
    client = bot_services.peaka_for()
    assert client is bot_services.peaka_for()
    jobs = await client.list_exports(simulator.project_id, statuses=[Status.FAILED])
    assert jobs and all(job.status is Status.FAILED for job in jobs)
    assert simulator.sim.counters["listExports"] == 1


async def test_peaka_for_a_users_key_is_a_separate_client(
    bot_services: Services, simulator: RunningSimulator
) -> None:
    ana_key = simulator.sim.seed_keys["ana-partner"]
    ana = bot_services.peaka_for(ana_key)
    assert ana is not bot_services.peaka_for()
    assert ana is bot_services.peaka_for(ana_key)
    assert ana_key not in repr(bot_services)
    await bot_services.aclose()
    assert bot_services.peaka_for(ana_key) is not ana  # closed clients are not handed out again


def test_projects_come_from_the_settings(bot_services: Services) -> None:
    assert bot_services.projects.default.id == "mtKDhe1U"
    assert bot_services.projects.resolve("billing") is not None


async def test_the_http_session_is_shared_until_aclose(bot_services: Services) -> None:
    session = bot_services.http_session()
    assert bot_services.http_session() is session
    await bot_services.aclose()
    assert session.closed
    assert bot_services.http_session() is not session  # a fresh one after close
    await bot_services.aclose()
