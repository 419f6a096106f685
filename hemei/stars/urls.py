from django.urls import path

from hemei.stars import views

urlpatterns = [
    path("me/stars/", views.my_stars, name="my-stars"),
    path("w/stars/", views.overview, name="stars-overview"),
    path("w/stars/coverage/", views.coverage, name="stars-coverage"),
    path("w/stars/round/<int:pk>/", views.round_detail, name="stars-round"),
    path("w/stars/round/<int:pk>/export.xlsx", views.round_export, name="stars-export"),
    path("w/stars/household/<int:pk>/", views.household_detail, name="stars-household"),
    path("v/<str:code>/stars/print/", views.print_notice, name="stars-print"),
]
