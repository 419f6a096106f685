"""/api/v1/visits/ and /api/v1/monitoring/: a SimpleRouter, so the regions router keeps the
/api/v1/ root view."""

from rest_framework.routers import SimpleRouter

from hemei.visits.api import MonitoringViewSet, VisitViewSet

router = SimpleRouter()
router.register("visits", VisitViewSet, basename="visit")
router.register("monitoring", MonitoringViewSet, basename="monitoring")
urlpatterns = router.urls
