"""Roster import/export pages (owned by the roster work)."""

from django.urls import path

from hemei.regions import views_roster

urlpatterns = [
    path("w/roster/import/", views_roster.roster_import_page, name="roster-import"),
    path("w/roster/imports/<int:pk>/", views_roster.roster_import_status,
         name="roster-import-status"),
    path("w/roster/imports/<int:pk>/progress/", views_roster.roster_import_progress,
         name="roster-import-progress"),
    path("w/roster/imports/<int:pk>/report.xlsx", views_roster.roster_import_report,
         name="roster-import-report"),
    path("w/roster/template.xlsx", views_roster.roster_template_download, name="roster-template"),
    path("w/roster/export/", views_roster.roster_export_view, name="roster-export"),
]
