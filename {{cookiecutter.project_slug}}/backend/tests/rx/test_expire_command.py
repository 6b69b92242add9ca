"""manage.py expire_rxdjango_cache [--dry-run], on fake channels with caches of their own."""

import asyncio
from io import StringIO

import pytest
from django.core.management import call_command

from rxdjango.cache import COLD, HOT
from rxdjango.management.commands import expire_rxdjango_cache
from tests.rx import cache_fixtures
from tests.rx.cache_fixtures import heat, make_flat

close_async_clients = cache_fixtures.close_async_clients
make_cache = cache_fixtures.make_cache


def fake_channel(name, cache, ttl_seconds):
    """Return a class with what the command reads from a ContextChannel subclass."""
    return type(name, (), {"cache": cache, "get_cache_ttl": classmethod(lambda cls: ttl_seconds)})


@pytest.fixture
async def channels(make_cache, monkeypatch):
    """Two fake channels: ShortChannel (TTL 1 s) with idle anchors 1 and 2 and busy anchor 3,
    and LongChannel (TTL one hour) with idle anchor 1.

    The caches' own TTLs are swapped, so the tests fail unless the command uses get_cache_ttl().
    """
    short = fake_channel("ShortChannel", make_cache(ttl_seconds=3600), ttl_seconds=1)
    long = fake_channel("LongChannel", make_cache(ttl_seconds=1), ttl_seconds=3600)
    for channel, anchor_ids in ((short, (1, 2, 3)), (long, (1,))):
        for anchor_id in anchor_ids:
            await heat(channel.cache, anchor_id, [make_flat(1, 1.0)])
    await short.cache.release(1)
    await short.cache.release(2)
    await long.cache.release(1)
    monkeypatch.setattr(expire_rxdjango_cache, "get_registered_channels", lambda: {short, long})
    await asyncio.sleep(1.2)
    return short, long


def run_command(*args):
    output = StringIO()
    call_command("expire_rxdjango_cache", *args, stdout=output)
    return output.getvalue().splitlines()


async def test_command_cools_expired_anchors(channels):
    short, long = channels

    lines = run_command()

    assert lines[0].startswith("Cooled ShortChannel anchor 1 (idle for ")
    assert lines[1].startswith("Cooled ShortChannel anchor 2 (idle for ")
    assert lines[2:] == ["2 anchors cooled"]
    assert short.cache.state_of(1) == COLD
    assert short.cache.state_of(2) == COLD
    assert short.cache.state_of(3) == HOT
    assert long.cache.state_of(1) == HOT


async def test_command_dry_run_changes_nothing(channels):
    short, long = channels

    lines = run_command("--dry-run")

    assert lines[0].startswith("Would cool ShortChannel anchor 1 (idle for ")
    assert lines[1].startswith("Would cool ShortChannel anchor 2 (idle for ")
    assert lines[2:] == ["2 anchors would be cooled (dry run, nothing changed)"]
    assert short.cache.state_of(1) == HOT
    assert short.cache.state_of(2) == HOT
    assert [flat["id"] async for batch in short.cache.read_anchor(1) for flat, _ in batch] == [1]


async def test_command_second_run_cools_nothing(channels):
    run_command()

    assert run_command() == ["0 anchors cooled"]


def test_command_with_registered_channels_dry_run():
    lines = run_command("--dry-run")

    assert lines[-1].endswith("would be cooled (dry run, nothing changed)")
