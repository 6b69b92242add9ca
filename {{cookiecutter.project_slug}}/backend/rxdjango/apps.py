from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules


def clear_all_caches(**kwargs):
    """Drop every channel's cached state, since migrations may change what it contains."""
    from rxdjango.channels import get_registered_channels

    for channel_class in get_registered_channels():
        channel_class.cache.clear_all()


class RxDjangoConfig(AppConfig):
    name = "rxdjango"
    verbose_name = "rxdjango live state"

    def ready(self):
        # Importing each app's channels.py defines its ContextChannel classes, which
        # registers them and connects the model signals they need.
        autodiscover_modules("channels")
        post_migrate.connect(clear_all_caches, sender=self, dispatch_uid="rxdjango:clear_all_caches")
