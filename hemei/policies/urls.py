from django.urls import path

from hemei.policies import views

urlpatterns = [
    path("me/policies/", views.my_policies, name="my-policies"),
    path("w/policies/", views.policy_list, name="policy-list"),
    path("w/policies/<int:pk>/", views.policy_detail, name="policy-detail"),
    path("w/policies/not-applied/", views.not_applied, name="policy-not-applied"),
    path("w/policies/not-applied/export.xlsx", views.not_applied_xlsx, name="policy-not-applied-export"),
    path("w/policies/households/<int:pk>/", views.household_policies, name="policy-household"),
    path("w/policies/households/<int:pk>/apply/", views.household_apply, name="policy-apply"),
    path("w/policies/households/<int:pk>/work/", views.household_work, name="policy-work"),
    path("w/policies/households/<int:pk>/card.pdf", views.household_card, name="policy-card"),
    path("w/policies/applications/<int:pk>/decide/", views.application_decide, name="policy-decide"),
]
