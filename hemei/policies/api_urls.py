"""/api/v1/policies/… and /api/v1/policy-applications/… (a SimpleRouter, like the other apps)."""

from rest_framework.routers import SimpleRouter

from hemei.policies.api import PolicyApplicationViewSet, PolicyViewSet

router = SimpleRouter()
router.register("policies", PolicyViewSet, basename="policies-api")
router.register("policy-applications", PolicyApplicationViewSet, basename="policy-applications-api")
urlpatterns = router.urls
