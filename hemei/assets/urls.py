from django.urls import path

from hemei.assets import views

urlpatterns = [
    path("w/assets/", views.asset_list, name="asset-list"),
    path("w/assets/new/", views.asset_new, name="asset-new"),
    path("w/assets/idle/", views.idle_database, name="asset-idle"),
    path("w/assets/import/", views.asset_import_view, name="asset-import"),
    path("w/assets/import/template/", views.asset_template, name="asset-template"),
    path("w/assets/export/", views.asset_export_view, name="asset-export"),
    path("w/assets/projects/", views.project_list, name="asset-projects"),
    path("w/assets/projects/new/", views.project_new, name="asset-project-new"),
    path("w/assets/projects/<int:pk>/", views.project_detail, name="asset-project"),
    path("w/assets/<int:pk>/", views.asset_detail, name="asset-detail"),
    path("w/assets/<int:pk>/edit/", views.asset_edit, name="asset-edit"),
    path("w/assets/<int:pk>/status/", views.asset_status, name="asset-status"),
    path("w/assets/<int:pk>/photos/", views.asset_photo_add, name="asset-photo-add"),
    path("w/assets/<int:pk>/photos/<int:photo_id>/", views.asset_photo, name="asset-photo"),
]
