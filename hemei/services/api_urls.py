"""/api/v1/services/… (a SimpleRouter, like the other apps)."""

from rest_framework.routers import SimpleRouter

from hemei.services.api import (
    BookingViewSet,
    ChildcareApplicationViewSet,
    EmergencyResponseViewSet,
    GridCheckViewSet,
    ProviderViewSet,
    SlotViewSet,
    SmeCheckViewSet,
)

router = SimpleRouter()
router.register("services/tour-slots", SlotViewSet, basename="tour-slot")
router.register("services/tour-bookings", BookingViewSet, basename="tour-booking")
router.register("services/childcare-providers", ProviderViewSet, basename="childcare-provider")
router.register("services/childcare-applications", ChildcareApplicationViewSet, basename="childcare-application")
router.register("services/emergency-responses", EmergencyResponseViewSet, basename="emergency-response")
router.register("services/grid-checks", GridCheckViewSet, basename="grid-check")
router.register("services/sme-check", SmeCheckViewSet, basename="sme-check")
urlpatterns = router.urls
