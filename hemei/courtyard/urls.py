from django.urls import path

from hemei.courtyard import views

urlpatterns = [
    path("w/courtyard/", views.event_list, name="courtyard-list"),
    path("w/courtyard/new/", views.event_create, name="courtyard-create"),
    path("w/courtyard/<int:pk>/", views.event_detail, name="courtyard-detail"),
    path("w/courtyard/<int:pk>/edit/", views.event_edit, name="courtyard-edit"),
    path("w/courtyard/<int:pk>/action/", views.event_action, name="courtyard-action"),
    path("w/courtyard/<int:pk>/score/", views.score, name="courtyard-score"),
    path("w/courtyard/<int:pk>/results/", views.results, name="courtyard-results"),
    path("w/courtyard/<int:pk>/results.xlsx", views.export, name="courtyard-export"),
    path("v/<str:code>/courtyard/<int:pk>/", views.public_results, name="courtyard-public"),
]
