"""/api/v1/services/… (a SimpleRouter, like the other apps)."""

from rest_framework.routers import SimpleRouter

from hemei.services.api import BookingViewSet, SlotViewSet

router = SimpleRouter()
router.register("services/tour-slots", SlotViewSet, basename="tour-slot")
router.register("services/tour-bookings", BookingViewSet, basename="tour-booking")
urlpatterns = router.urls
