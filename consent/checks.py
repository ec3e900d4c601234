from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def field_keys_from_environment(app_configs, **kwargs):
    warnings = []
    if not getattr(settings, "FIELD_ENCRYPTION_KEYS_FROM_ENVIRONMENT", False):
        warnings.append(
            Warning(
                "FIELD_ENCRYPTION_KEYS is not set in the environment; a machine-local demo key is in use.",
                hint="Set FIELD_ENCRYPTION_KEYS to one or more Fernet keys, newest first (docs/consent.md).",
                id="consent.W001",
            )
        )
    if not getattr(settings, "FIELD_HMAC_KEY_FROM_ENVIRONMENT", False):
        warnings.append(
            Warning(
                "FIELD_HMAC_KEY is not set in the environment; a machine-local demo key is in use.",
                hint="Set FIELD_HMAC_KEY to a long random value (docs/consent.md).",
                id="consent.W002",
            )
        )
    return warnings
