from django.apps import AppConfig


class RxAppConfig(AppConfig):
    """Models and serializers that the rxdjango tests build channels on."""

    name = "tests.rxapp"
    label = "rxapp"
    default_auto_field = "django.db.models.BigAutoField"
