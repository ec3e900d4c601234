from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from common.errors import ServiceError
from partners import services


class Command(BaseCommand):
    help = (
        "Enrol an authenticator app for USERNAME (e.g. a new platform admin, who cannot sign in without "
        "one): prints the otpauth:// URI, then asks for a code from the app to confirm it. Run it with "
        "the person beside you, or let them run it: the URI holds their secret."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace", action="store_true", help="Forget the devices the user has (a lost phone) first"
        )

    def handle(self, *args, username, replace=False, **options):
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        if replace:
            services.totp_remove(user=user)
        try:
            uri = services.totp_setup(user=user)
        except ServiceError as exc:
            raise CommandError(f"{exc.message} ({exc.code})") from exc
        self.stdout.write(f"Add this to the authenticator app (or make a QR code of it):\n  {uri}\n")
        code = input("Code shown by the app: ").strip()
        try:
            services.totp_confirm(user=user, otp=code)
        except ServiceError as exc:
            raise CommandError(f"{exc.message} ({exc.code}); run the command again.") from exc
        self.stdout.write(self.style.SUCCESS(f"{username} now signs in with a one-time code."))
