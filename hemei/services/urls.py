from django.urls import path

from hemei.services import views, views_emergency

urlpatterns = [
    # Public (no account): 研学 booking.
    path("yanxue/", views.tour_home, name="tour-home"),
    path("yanxue/<int:pk>/", views.tour_venue, name="tour-venue"),
    path("yanxue/slot/<int:pk>/", views.tour_book, name="tour-book"),
    path("yanxue/b/<str:ref>/", views.tour_receipt, name="tour-receipt"),
    path("sme/check/", views.sme_check, name="sme-check"),
    # Staff.
    path("w/yanxue/", views.venue_list, name="tour-staff-venues"),
    path("w/yanxue/venues/<int:pk>/", views.venue_detail, name="tour-staff-venue"),
    path("w/yanxue/venues/<int:pk>/export.xlsx", views.venue_export, name="tour-staff-export"),
    path("w/yanxue/slots/<int:pk>/", views.slot_detail, name="tour-staff-slot"),
    path("w/yanxue/bookings/<int:pk>/reveal/", views.booking_reveal, name="tour-staff-reveal"),
    path("w/yanxue/bookings/<int:pk>/<str:step>/", views.booking_step, name="tour-staff-step"),
    # Emergency response levels.
    path("w/emergency/", views_emergency.emergency_home, name="emergency-home"),
    path("w/emergency/declare/", views_emergency.emergency_declare, name="emergency-declare"),
    path("w/emergency/<int:pk>/", views_emergency.emergency_board, name="emergency-board"),
    path("w/emergency/<int:pk>/change/", views_emergency.emergency_change, name="emergency-change"),
    path("w/emergency/<int:pk>/export.xlsx", views_emergency.emergency_export, name="emergency-export"),
    path("w/emergency/checks/<int:pk>/", views_emergency.check_page, name="emergency-check"),
]
