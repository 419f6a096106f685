from django.urls import path

from hemei.regions import views, views_edit, views_home, views_people

urlpatterns = [
    path("w/", views_home.workbench, name="workbench"),
    path("w/overview/", views.household_overview, name="household-overview"),
    path("w/households/", views.household_list, name="household-list"),
    path("w/households/<int:pk>/", views.household_detail, name="household-detail"),
    path("w/households/<int:pk>/file.pdf", views.household_pdf, name="household-pdf"),
    path("w/residents/<int:pk>/edit/", views.resident_edit, name="resident-edit"),
    path("w/residents/<int:pk>/status/", views.resident_status, name="resident-status"),
    path("w/residents/<int:pk>/reveal/<str:field>/", views.resident_reveal, name="resident-reveal"),
    path("w/audit/", views.audit_log, name="audit-log"),
    path("me/", views.villager_home, name="villager-home"),
    path("no-posts/", views.no_posts, name="no-posts"),
    # Pages that change the register (hemei.regions.views_edit).
    path("w/regions/<str:code>/households/new/", views_edit.household_create, name="household-create"),
    path("w/households/<int:pk>/edit/", views_edit.household_edit, name="household-edit"),
    path("w/households/<int:pk>/residents/new/", views_edit.resident_create, name="resident-create"),
    path("w/households/<int:pk>/move/", views_edit.household_move, name="household-move"),
    path("w/households/<int:pk>/links/new/", views_edit.household_link, name="household-link"),
    path("w/residents/<int:pk>/tags/", views_edit.resident_tags, name="resident-tags"),
    path("w/residents/<int:pk>/move/", views_edit.resident_move, name="resident-move"),
    # People and posts (hemei.regions.views_people).
    path("w/people/", views_people.people_list, name="people-list"),
    path("w/people/new/", views_people.people_create, name="people-create"),
    path("w/people/users/<int:pk>/", views_people.people_user, name="people-user"),
    path("w/people/users/<int:pk>/posts/new/", views_people.post_add, name="people-post-add"),
    path("w/people/users/<int:pk>/unlock/", views_people.account_unlock, name="people-unlock"),
    path("w/people/users/<int:pk>/password/", views_people.account_password, name="people-password"),
    path("w/people/posts/<int:pk>/end/", views_people.post_end, name="people-post-end"),
    path("w/people/residents/<int:pk>/account/", views_people.villager_account, name="people-villager-account"),
]
