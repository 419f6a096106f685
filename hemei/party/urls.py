from django.urls import path

from hemei.party import views

urlpatterns = [
    path("w/party/", views.branch_list, name="party-branches"),
    path("w/party/new/", views.branch_new, name="party-branch-new"),
    path("w/party/branches/<int:pk>/", views.branch_detail, name="party-branch"),
    path("w/party/branches/<int:pk>/plan/", views.branch_plan, name="party-branch-plan"),
    path("w/party/branches/<int:pk>/members/", views.branch_add_member, name="party-branch-add-member"),
    path("w/party/branches/<int:pk>/members.xlsx", views.branch_export_members, name="party-export-members"),
    path("w/party/branches/<int:pk>/attendance.xlsx", views.branch_export_attendance, name="party-export-attendance"),
    path("w/party/members/<int:pk>/", views.member_detail, name="party-member"),
    path("w/party/members/<int:pk>/<str:action>/", views.member_action, name="party-member-action"),
    path("w/party/sessions/<int:pk>/", views.session_detail, name="party-session"),
    path("w/party/sessions/<int:pk>/<str:action>/", views.session_action, name="party-session-action"),
    path("me/party/", views.my_party, name="my-party"),
    path("me/party/sign/", views.sign_in, name="party-sign-typed"),
    path("me/party/sign/<str:code>/", views.sign_in, name="party-sign"),
]
