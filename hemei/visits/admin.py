from django.contrib import admin

from hemei.visits.models import PovertyThreshold


@admin.register(PovertyThreshold)
class PovertyThresholdAdmin(admin.ModelAdmin[PovertyThreshold]):
    list_display = ("province_code", "province_name", "year", "amount")
    list_filter = ("year",)
