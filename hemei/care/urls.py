from django.urls import path

from hemei.care import views

urlpatterns = [
    path("w/care/", views.carer_home, name="care-home"),
    path("w/care/orders/<int:pk>/", views.order_detail, name="care-order"),
    path("w/care/orders/<int:pk>/<str:step>/", views.order_step, name="care-order-step"),
    path("w/care/elders/", views.elder_list, name="care-elders"),
    path("w/care/elders/<int:pk>/", views.elder_detail, name="care-elder"),
    path("w/care/elders/<int:pk>/reveal/", views.elder_reveal, name="care-elder-reveal"),
    path("w/care/elders/<int:pk>/reading/", views.elder_reading, name="care-elder-reading"),
    path("w/care/elders/<int:pk>/assess/", views.elder_assess, name="care-elder-assess"),
    path("w/care/visits/", views.visit_list, name="care-visits"),
    path("w/care/visits/<int:pk>/done/", views.visit_done, name="care-visit-done"),
    path("w/care/institutions/", views.institution_list, name="care-institutions"),
    path("me/care/call/", views.my_call, name="care-my-call"),
]
