from django.urls import path

from hemei.dashboards import views_board, views_entry

app_name = "dashboards"

urlpatterns = [
    path("w/dashboard/", views_board.home, name="home"),
    path("w/dashboard/screen/<str:code>/", views_board.screen, name="screen"),
    path("w/dashboard/map.json", views_board.map_data, name="map"),
    path("w/dashboard/chart/<str:chart>.xlsx", views_board.chart_xlsx, name="chart-xlsx"),
    path("w/dashboard/definitions/", views_board.definitions, name="definitions"),
    path("w/dashboard/entry/", views_entry.entry_list, name="entry-list"),
    path("w/dashboard/entry/<str:code>/<str:period>/", views_entry.entry, name="entry"),
    path("w/dashboard/approvals/", views_entry.approvals, name="approvals"),
    path("w/dashboard/import/", views_entry.import_values, name="import"),
    path("w/dashboard/import/template.xlsx", views_entry.import_template, name="import-template"),
]
