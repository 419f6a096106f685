from django.urls import path

from hemei.points import views

urlpatterns = [
    path("me/points/", views.my_points, name="my-points"),
    path("me/points/<int:pk>/object/", views.my_objection, name="my-points-object"),
    path("me/shop/", views.my_shop, name="my-shop"),
    path("w/points/propose/", views.propose, name="points-propose"),
    path("w/points/review/", views.review, name="points-review"),
    path("w/shop/counter/", views.counter, name="shop-counter"),
    path("w/points/rules/", views.rules_page, name="points-rules"),
    path("w/points/rules/v/<int:pk>/", views.rule_version, name="points-rule-version"),
    path("w/points/ledger.xlsx", views.ledger_xlsx, name="points-ledger-xlsx"),
    path("w/shop/rewards/", views.rewards, name="shop-rewards"),
    path("w/shop/rewards/<int:pk>/", views.reward_edit, name="shop-reward"),
    path("shop/rewards/<int:pk>/photo/", views.reward_photo, name="shop-reward-photo"),
    path("w/shop/stats/", views.shop_stats, name="shop-stats"),
    path("w/shop/stats.xlsx", views.shop_stats_xlsx, name="shop-stats-xlsx"),
    path("v/<str:code>/points/print/", views.public_print, name="points-print"),
    path("v/<str:code>/points/ranking/", views.public_ranking, name="points-ranking"),
]
