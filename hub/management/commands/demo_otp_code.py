import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Demo only (DEBUG=1, demo users): print the current one-time code of a demo user's device."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        # printing codes from the stored secret would void the second factor on a real system
        if not settings.DEBUG:
            raise CommandError("demo_otp_code runs only in the demo (DEBUG=1).")
        user = get_user_model().objects.filter(username=username, email__endswith="@demo.invalid").first()
        if user is None:
            raise CommandError(f"{username!r} is not a demo user (make demo creates them).")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} has no confirmed authenticator device.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        remaining = device.step - int(time.time() - device.t0) % device.step
        code = str(totp.token()).zfill(device.digits)
        self.stdout.write(code)
        self.stderr.write(f"valid for {remaining} more seconds (each code signs in once)")
