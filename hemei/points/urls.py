from django.urls import path

from hemei.points import views

urlpatterns = [
    path("me/points/", views.my_points, name="my-points"),
    path("me/points/<int:pk>/object/", views.my_objection, name="my-points-object"),
    path("me/shop/", views.my_shop, name="my-shop"),
    path("w/points/propose/", views.propose, name="points-propose"),
    path("w/points/review/", views.review, name="points-review"),
    path("w/shop/counter/", views.counter, name="shop-counter"),
]
