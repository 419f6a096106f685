"""/api/v1/points/…: a SimpleRouter, so the regions router keeps the /api/v1/ root view."""

from rest_framework.routers import SimpleRouter

from hemei.points.api import AccountViewSet, EntryViewSet, RedemptionViewSet, RewardViewSet

router = SimpleRouter()
router.register("points/accounts", AccountViewSet, basename="points-account")
router.register("points/entries", EntryViewSet, basename="points-entry")
router.register("points/rewards", RewardViewSet, basename="points-reward")
router.register("points/redemptions", RedemptionViewSet, basename="points-redemption")
urlpatterns = router.urls
