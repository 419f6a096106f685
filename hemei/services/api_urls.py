"""/api/v1/services/… (a SimpleRouter, like the other apps)."""

from rest_framework.routers import SimpleRouter

from hemei.services.api import BookingViewSet, ChildcareApplicationViewSet, ProviderViewSet, SlotViewSet

router = SimpleRouter()
router.register("services/tour-slots", SlotViewSet, basename="tour-slot")
router.register("services/tour-bookings", BookingViewSet, basename="tour-booking")
router.register("services/childcare-providers", ProviderViewSet, basename="childcare-provider")
router.register("services/childcare-applications", ChildcareApplicationViewSet, basename="childcare-application")
urlpatterns = router.urls
