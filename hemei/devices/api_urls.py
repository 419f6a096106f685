"""/api/v1/devices/ and /api/v1/alarms/ (a SimpleRouter, like the other apps)."""

from rest_framework.routers import SimpleRouter

from hemei.devices.api import AlarmViewSet, DeviceViewSet

router = SimpleRouter()
router.register("devices", DeviceViewSet, basename="device")
router.register("alarms", AlarmViewSet, basename="alarm")
urlpatterns = router.urls
