from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HubConfig(AppConfig):
    name = "hub"
    default = True  # "hub" in INSTALLED_APPS; the admin's config below is named explicitly

    def ready(self) -> None:
        from hub import (
            checks,  # noqa: F401  (registers system checks)
            openapi,  # noqa: F401  (registers the schema extension)
        )


class HubAdminConfig(admin_apps.AdminConfig):
    """The Django admin, with the admin site that asks for a TOTP code (hub/admin_site.py)."""

    default = False  # named in INSTALLED_APPS as hub.apps.HubAdminConfig
    default_site = "hub.admin_site.HubAdminSite"
