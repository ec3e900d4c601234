from django.conf import settings
from django.core.checks import Error, Warning, register


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


@register(deploy=True)
def activation_links_reach_users(app_configs, **kwargs):
    """A new account's owner must be able to open the link mailed to them."""
    url = settings.ACCOUNT_ACTIVATION_URL
    problems = []
    if "{token}" not in url:
        problems.append(
            Warning(
                "ACCOUNT_ACTIVATION_URL has no {token} placeholder; activation links would not work.",
                id="hub.W002",
            )
        )
    elif "//127.0.0.1" in url or "//localhost" in url:
        problems.append(
            Warning(
                "ACCOUNT_ACTIVATION_URL points at this machine; mailed activation links will not open.",
                hint="Set ACCOUNT_ACTIVATION_URL to the public page that takes the token.",
                id="hub.W003",
            )
        )
    return problems


@register()
def sessions_are_database_rows(app_configs, **kwargs):
    """Deactivation signs a person out by deleting their session rows (partners.services)."""
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        return []
    return [
        Error(
            f"SESSION_ENGINE is {settings.SESSION_ENGINE!r}; deactivating a member could not end their "
            "browser sessions.",
            hint="Keep the database session engine (django.contrib.sessions.backends.db).",
            id="hub.E001",
        )
    ]
