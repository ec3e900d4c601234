"""The admin site: staff log in with their password and a TOTP code (django-otp).

An admin session that has not passed a code is treated as not staff: every admin page sends it to
the login form. Staff are platform admins (and operators); they manage the directory, never cases.
"""

from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice


class HubAdminAuthenticationForm(OTPAdminAuthenticationForm):
    def _chosen_device(self, user):
        # With one confirmed device there is nothing to choose: take it, so the code can be typed
        # together with the password (django-otp otherwise asks for the device in a second round).
        device = super()._chosen_device(user)
        if device is None:
            devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update()[:2])
            if len(devices) == 1:
                device = devices[0]
        return device


class HubAdminSite(OTPAdminSite):
    login_form = HubAdminAuthenticationForm

    def __init__(self, name: str = "admin"):
        super().__init__(name)
