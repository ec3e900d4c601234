"""Authentication classes for REST (kept apart from the views: DRF imports them while defining its own)."""

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication

from partners.selectors import second_factor_required


def session_is_acceptable(user) -> bool:
    """A browser session counts only once it passed the second factor, for users who need one."""
    return not second_factor_required(user) or bool(getattr(user, "is_verified", lambda: False)())


class VerifiedSessionAuthentication(SessionAuthentication):
    """DRF's session authentication, for sessions that passed a TOTP code where one is required."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and not session_is_acceptable(result[0]):
            return None
        return result


class VerifiedSessionScheme(SessionScheme):
    """OpenAPI: the same cookie session scheme as DRF's."""

    target_class = "hub.authentication.VerifiedSessionAuthentication"
