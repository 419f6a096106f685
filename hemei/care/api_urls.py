"""/api/v1/care/elders/ and /api/v1/care/orders/ (a SimpleRouter, like the other apps)."""

from rest_framework.routers import SimpleRouter

from hemei.care.api import ElderViewSet, OrderViewSet

router = SimpleRouter()
router.register("care/elders", ElderViewSet, basename="care-elder")
router.register("care/orders", OrderViewSet, basename="care-order")
urlpatterns = router.urls
