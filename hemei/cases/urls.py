from django.urls import path

from hemei.cases import views, views_act
from hemei.dashboards import views as dashboard_views

urlpatterns = [
    path("me/cases/", views.my_cases, name="my-cases"),
    path("me/cases/new/", views.my_case_new, name="my-case-new"),
    path("me/cases/<str:number>/", views.my_case, name="my-case"),
    path("me/cases/<str:number>/rate/", views.my_case_rate, name="my-case-rate"),
    path("me/cases/<str:number>/photos/<int:photo_id>/", views.my_case_photo, name="my-case-photo"),
    path("w/cases/", views.case_list, name="case-list"),
    path("w/cases/new/", views.case_new, name="case-new"),
    path("w/cases/board/", views.case_board, name="case-board"),
    path("w/cases/stats/", dashboard_views.case_stats, name="case-stats"),
    path("w/cases/ledger.xlsx", views.case_ledger, name="case-ledger"),
    path("w/cases/<str:number>/", views.case_detail, name="case-detail"),
    path("w/cases/<str:number>/photos/<int:photo_id>/", views.case_photo, name="case-photo"),
    path("w/cases/<str:number>/reporter-phone/", views_act.case_reporter_phone, name="case-reporter-phone"),
    path("w/cases/<str:number>/extension/", views.case_extension_decide, name="case-extension-decide"),
    path("w/cases/<str:number>/<str:action>/", views.case_action, name="case-action"),
]
