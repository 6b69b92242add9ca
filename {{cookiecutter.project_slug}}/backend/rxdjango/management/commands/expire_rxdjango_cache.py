import time

from django.core.management.base import BaseCommand

from rxdjango.channels import get_registered_channels


class Command(BaseCommand):
    help = (
        "Cool the cached state of anchors that have had no connected client for longer than "
        "their channel's cache TTL (Meta.cache_ttl, else RX_CACHE_TTL)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="list the anchors that would be cooled without changing the cache",
        )

    def handle(self, *args, dry_run, **options):
        now = time.time()
        verb = "Would cool" if dry_run else "Cooled"
        total = 0
        for channel_class in sorted(get_registered_channels(), key=lambda channel: channel.__name__):
            cache = channel_class.cache
            ttl = channel_class.get_cache_ttl()
            expired = cache.expired_anchor_ids(now, ttl_seconds=ttl)
            idle_since = {anchor_id: cache.idle_since(anchor_id) for anchor_id in expired}
            for anchor_id in cache.expire(now, dry_run=dry_run, ttl_seconds=ttl):
                idle = ""
                if idle_since.get(anchor_id) is not None:
                    idle = f" (idle for {(now - idle_since[anchor_id]) / 3600:.1f} h)"
                self.stdout.write(f"{verb} {channel_class.__name__} anchor {anchor_id}{idle}")
                total += 1

        anchors = "anchor" if total == 1 else "anchors"
        if dry_run:
            self.stdout.write(f"{total} {anchors} would be cooled (dry run, nothing changed)")
        else:
            self.stdout.write(f"{total} {anchors} cooled")
