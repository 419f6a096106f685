from django.urls import path

from hemei.meetings import views

urlpatterns = [
    path("w/meetings/", views.meeting_list, name="meeting-list"),
    path("w/meetings/new/", views.meeting_new, name="meeting-new"),
    path("w/meetings/<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("w/meetings/<int:pk>/<str:action>/", views.meeting_action, name="meeting-action"),
    path("w/meetings/items/<int:pk>/decide/", views.item_decide, name="meeting-item-decide"),
    path("w/meetings/table/<str:number>/", views.case_table_view, name="meeting-case-table"),
    path("v/<str:code>/meetings/", views.public_outcomes, name="public-meetings"),
]
