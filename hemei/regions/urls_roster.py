"""Roster import/export pages (owned by the roster work)."""

from django.urls import path

from hemei.regions import views_roster

urlpatterns = [
    path("w/roster/import/", views_roster.roster_import_page, name="roster-import"),
]
