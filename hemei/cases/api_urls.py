"""/api/v1/cases/…: a SimpleRouter, so the regions router keeps the /api/v1/ root view."""

from rest_framework.routers import SimpleRouter

from hemei.cases.api import CaseViewSet

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
urlpatterns = router.urls
