from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # referrals knows nothing of delivery: every notice it writes is handed to this handler,
        # in the writer's transaction, which defers the notice's delivery job there
        from notifications import services
        from referrals import outbox

        outbox.register_outbox_handler(services.on_outbox_written)
        # partner systems: one event per organisation and endpoint, beside the members' notices
        outbox.register_outbox_handler(services.webhooks_on_outbox_written)
