from django.urls import path

from hemei.notify import views

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox-read-all"),
    path("inbox/<int:pk>/read/", views.inbox_read, name="inbox-read"),
]
