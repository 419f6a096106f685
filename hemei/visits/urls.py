from django.urls import path

from hemei.visits import views

urlpatterns = [
    path("w/visits/", views.visit_list, name="visit-list"),
    path("w/visits/new/", views.visit_new, name="visit-new"),
    path("w/visits/coverage/", views.visit_coverage, name="visit-coverage"),
    path("w/visits/ledger.xlsx", views.visit_ledger, name="visit-ledger"),
    path("w/visits/<int:pk>/", views.visit_detail, name="visit-detail"),
    path("w/patrols/", views.patrol_list, name="patrol-list"),
    path("w/monitoring/", views.monitoring_list, name="monitoring-list"),
    path("w/monitoring/new/", views.monitoring_new, name="monitoring-new"),
    path("w/monitoring/import/", views.monitoring_import, name="monitoring-import"),
    path("w/monitoring/ledger.xlsx", views.monitoring_ledger, name="monitoring-ledger"),
    path("w/monitoring/<int:pk>/", views.monitoring_detail, name="monitoring-detail"),
    path("w/monitoring/<int:pk>/<str:action>/", views.monitoring_action, name="monitoring-action"),
    path("me/monitoring/", views.my_declaration, name="my-declaration"),
    path("v/<str:village>/monitoring/notice/<str:public_id>/", views.public_notice, name="monitoring-notice"),
]
