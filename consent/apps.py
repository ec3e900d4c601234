import logging

from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent"

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from consent import checks, keys  # noqa: F401  (checks: registers system checks)

        # unwrapped person keys never outlive the request that needed them
        request_started.connect(keys.clear_cache, dispatch_uid="consent.keys.request_started")
        request_finished.connect(keys.clear_cache, dispatch_uid="consent.keys.request_finished")
        # statements on the key table reach the SQL debug log without their values
        database_log = logging.getLogger("django.db.backends")
        if not any(isinstance(f, keys.RedactWrappedKeys) for f in database_log.filters):
            database_log.addFilter(keys.RedactWrappedKeys())
