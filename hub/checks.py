from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def secret_key_from_environment(app_configs, **kwargs):
    if getattr(settings, "SECRET_KEY_FROM_ENVIRONMENT", False):
        return []
    return [
        Warning(
            "SECRET_KEY is not set in the environment; a machine-local demo key is in use.",
            hint="Set SECRET_KEY to a long random value in production.",
            id="hub.W001",
        )
    ]
