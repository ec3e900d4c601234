from django.conf import settings
from django.core.checks import Error, Warning, register


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


@register()
def encrypted_models_open_their_values(app_configs, **kwargs):
    """Every model with encrypted fields names a person for each and opens ``values()`` rows."""
    from django.apps import apps

    from consent.fields import DecryptingQuerySet, encrypted_fields

    configs = apps.get_app_configs() if app_configs is None else app_configs
    errors = []
    for model in (model for config in configs for model in config.get_models()):
        fields = encrypted_fields(model)
        if not fields:
            continue
        label = model._meta.label
        if not issubclass(model._default_manager._queryset_class, DecryptingQuerySet):
            errors.append(
                Error(
                    f"{label} has encrypted fields but its default manager's queryset is not a "
                    "DecryptingQuerySet: values() and values_list() would return sealed values.",
                    hint="objects = DecryptingQuerySet.as_manager() (and consent.fields.encrypted_history() "
                    "instead of HistoricalRecords()).",
                    obj=model,
                    id="consent.E001",
                )
            )
        names = {f.name for f in model._meta.get_fields()} | {f.attname for f in model._meta.concrete_fields}
        for field in fields:
            if field.key_from.split(".")[0] not in names:
                errors.append(
                    Error(
                        f"{label}.{field.name}: key_from '{field.key_from}' does not start at a field of "
                        "the model, so the person whose key seals the value cannot be found.",
                        obj=model,
                        id="consent.E002",
                    )
                )
    return errors
