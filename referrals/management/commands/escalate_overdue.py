from django.core.management.base import BaseCommand

from referrals.services import referrals_escalate_overdue


class Command(BaseCommand):
    help = "Escalate referrals with no answer by their due date (run it every few minutes from a scheduler)."

    def handle(self, *args, **options):
        count = referrals_escalate_overdue()
        self.stdout.write(f"Escalated {count} overdue referral(s).")
