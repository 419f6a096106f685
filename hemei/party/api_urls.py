"""/api/v1/party/branches/, /party/sessions/, /party/attendance/ (a SimpleRouter, like the other apps)."""

from rest_framework.routers import SimpleRouter

from hemei.party.api import AttendanceViewSet, BranchViewSet, SessionViewSet

router = SimpleRouter()
router.register("party/branches", BranchViewSet, basename="party-branch")
router.register("party/sessions", SessionViewSet, basename="party-session")
router.register("party/attendance", AttendanceViewSet, basename="party-attendance")
urlpatterns = router.urls
