from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "The person's door"
    default_auto_field = "django.db.models.BigAutoField"
