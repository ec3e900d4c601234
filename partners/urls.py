from rest_framework.routers import SimpleRouter

from partners import api


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer with or without a trailing slash (``/api/v1/services`` and ``.../services/``)."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("organisations", api.OrganisationViewSet, basename="organisation")
router.register("memberships", api.MembershipViewSet, basename="membership")
router.register("services", api.ServiceViewSet, basename="service")

urlpatterns = router.urls
