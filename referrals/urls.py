from partners.urls import OptionalSlashRouter
from referrals import pathway_api

router = OptionalSlashRouter()
router.register("pathways", pathway_api.PathwayViewSet, basename="pathway")

urlpatterns = router.urls
