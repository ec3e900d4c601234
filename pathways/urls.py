from partners.urls import OptionalSlashRouter
from pathways import api

router = OptionalSlashRouter()
router.register("pathways", api.PathwayViewSet, basename="pathway")

urlpatterns = router.urls
