from django.urls import path

from hemei.care import views

urlpatterns = [
    path("care/", views.carer_home, name="care-home"),
    path("care/orders/<int:pk>/", views.order_detail, name="care-order"),
    path("care/orders/<int:pk>/<str:step>/", views.order_step, name="care-order-step"),
    path("care/elders/", views.elder_list, name="care-elders"),
    path("care/elders/<int:pk>/", views.elder_detail, name="care-elder"),
    path("care/elders/<int:pk>/reveal/", views.elder_reveal, name="care-elder-reveal"),
    path("care/elders/<int:pk>/reading/", views.elder_reading, name="care-elder-reading"),
    path("care/elders/<int:pk>/assess/", views.elder_assess, name="care-elder-assess"),
    path("care/visits/", views.visit_list, name="care-visits"),
    path("care/visits/<int:pk>/done/", views.visit_done, name="care-visit-done"),
    path("care/institutions/", views.institution_list, name="care-institutions"),
    path("me/care/call/", views.my_call, name="care-my-call"),
]
