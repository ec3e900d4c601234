from consent import api
from partners.urls import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("persons", api.PersonViewSet, basename="person")
router.register("consents", api.ConsentViewSet, basename="consent")
router.register("data-subject-requests", api.DataSubjectRequestViewSet, basename="data-subject-request")

urlpatterns = router.urls
