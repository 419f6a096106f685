from django.urls import path

from hemei.regions import views

urlpatterns = [
    path("w/", views.workbench, name="workbench"),
    path("w/households/", views.household_list, name="household-list"),
    path("w/households/<int:pk>/", views.household_detail, name="household-detail"),
    path("w/residents/<int:pk>/edit/", views.resident_edit, name="resident-edit"),
    path("w/residents/<int:pk>/status/", views.resident_status, name="resident-status"),
    path("w/residents/<int:pk>/reveal/<str:field>/", views.resident_reveal, name="resident-reveal"),
    path("w/audit/", views.audit_log, name="audit-log"),
    path("me/", views.villager_home, name="villager-home"),
    path("no-posts/", views.no_posts, name="no-posts"),
]
