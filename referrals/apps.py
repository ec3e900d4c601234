from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        # consent knows nothing of referrals: it calls whatever registered for its events
        from consent import cascade
        from partners import hooks
        from referrals import services

        cascade.register_withdrawal_handler(services.on_consent_withdrawn)
        cascade.register_erasure_handler(services.on_person_erased)
        cascade.register_scope_change_handler(services.on_consent_narrowed)
        hooks.register_focal_point_handler(services.on_focal_point_handed_over)
        hooks.register_deactivation_handler(services.on_membership_deactivated)
        cascade.register_access_exporter("referrals", services.export_for_person)
