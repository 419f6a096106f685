from django.urls import path

from hemei.contracts import views, views_trust

urlpatterns = [
    path("w/contracts/", views.contract_list, name="contract-list"),
    path("w/contracts/new/", views.contract_new, name="contract-new"),
    path("w/contracts/review/", views.review_overview, name="contract-review"),
    path("w/contracts/import/", views.contract_import_view, name="contract-import"),
    path("w/contracts/export.xlsx", views.contract_export_view, name="contract-export"),
    path("w/contracts/<int:pk>/", views.contract_detail, name="contract-detail"),
    path("w/contracts/<int:pk>/<slug:action>/", views.contract_action, name="contract-action"),
    path("v/<str:code>/contracts/<int:pk>/", views.public_contract, name="contract-public"),
    path("w/trusteeship/", views_trust.trusteeship_overview, name="trusteeship"),
    path("w/trusteeship/income/", views_trust.trusteeship_income, name="trusteeship-income"),
    path("w/trusteeship/parcels/", views_trust.parcel_list, name="trust-parcels"),
    path("w/trusteeship/parcels/new/", views_trust.parcel_new, name="trust-parcel-new"),
    path("w/trusteeship/parcels/<int:pk>/", views_trust.parcel_detail, name="trust-parcel"),
    path("w/trusteeship/services/new/", views_trust.service_new, name="trust-service-new"),
    path("w/trusteeship/income/new/", views_trust.income_new, name="trust-income-new"),
    path("w/trusteeship/import/", views_trust.parcel_import_view, name="trust-import"),
    path("w/trusteeship/import/template.xlsx", views_trust.parcel_template_view, name="trust-import-template"),
    path("w/trusteeship/export.xlsx", views_trust.parcel_export_view, name="trust-export"),
    path("me/trusteeship/", views_trust.my_trusteeship, name="my-trusteeship"),
]
