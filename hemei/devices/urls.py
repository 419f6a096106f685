from django.urls import path

from hemei.devices import views, webhook

urlpatterns = [
    path("w/devices/", views.device_list, name="device-list"),
    path("w/devices/new/", views.device_new, name="device-new"),
    path("w/devices/register.xlsx", views.device_register_xlsx, name="device-register-xlsx"),
    path("w/devices/dead-letters/", views.dead_letters, name="device-dead-letters"),
    path("w/devices/<int:pk>/", views.device_detail, name="device-detail"),
    path("w/alarms/", views.alarm_list, name="alarm-list"),
    path("w/alarms/ledger.xlsx", views.alarm_ledger_xlsx, name="alarm-ledger"),
    path("w/alarms/<int:pk>/", views.alarm_detail, name="alarm-detail"),
    path("w/alarms/<int:pk>/<str:action>/", views.alarm_action, name="alarm-action"),
    path("hooks/devices/<str:code>/", webhook.device_webhook, name="device-webhook"),
]
