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
    path("me/trusteeship/", views_trust.my_trusteeship, name="my-trusteeship"),
]
