from django.urls import path

from hemei.indicators import api

urlpatterns = [
    path("dataValueSets/", api.data_value_sets, name="api-data-value-sets"),
    path("dashboard/", api.dashboard, name="api-dashboard"),
]
