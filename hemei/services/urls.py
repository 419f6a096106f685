from django.urls import path

from hemei.services import views, views_childcare, views_emergency

urlpatterns = [
    # Public (no account): 研学 booking.
    path("yanxue/", views.tour_home, name="tour-home"),
    path("yanxue/<int:pk>/", views.tour_venue, name="tour-venue"),
    path("yanxue/slot/<int:pk>/", views.tour_book, name="tour-book"),
    path("yanxue/b/<str:ref>/", views.tour_receipt, name="tour-receipt"),
    path("sme/check/", views.sme_check, name="sme-check"),
    # Public (no account): 托育 places, figures only.
    path("tuoyu/", views_childcare.public_list, name="childcare-public-list"),
    path("tuoyu/<int:pk>/", views_childcare.public_provider, name="childcare-public"),
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
    # Childcare places (托育).
    path("w/tuoyu/", views_childcare.provider_list, name="childcare-providers"),
    path("w/tuoyu/new/", views_childcare.provider_new, name="childcare-provider-new"),
    path("w/tuoyu/<int:pk>/", views_childcare.provider_detail, name="childcare-provider"),
    path("w/tuoyu/<int:pk>/edit/", views_childcare.provider_edit, name="childcare-provider-edit"),
    path("w/tuoyu/<int:pk>/apply/", views_childcare.application_new, name="childcare-apply"),
    path("w/tuoyu/<int:pk>/offer-next/", views_childcare.offer_next, name="childcare-offer-next"),
    path("w/tuoyu/<int:pk>/export.xlsx", views_childcare.provider_export, name="childcare-export"),
    path("w/tuoyu/applications/<int:pk>/<str:step>/", views_childcare.application_step, name="childcare-step"),
]
