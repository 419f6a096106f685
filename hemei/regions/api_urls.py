from rest_framework.routers import DefaultRouter

from hemei.regions.api import HouseholdViewSet, RegionViewSet, ResidentViewSet

router = DefaultRouter()
router.register("regions", RegionViewSet, basename="region")
router.register("households", HouseholdViewSet, basename="household")
router.register("residents", ResidentViewSet, basename="resident")
urlpatterns = router.urls
