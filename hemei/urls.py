from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from hemei.accounts import views as account_views
from hemei.core import api as core_api
from hemei.core import ledger_api
from hemei.core import views as core_views

handler404 = "hemei.core.api.not_found"
handler500 = "hemei.core.api.server_error"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    # Browsers and phones ask for these at fixed addresses, whatever the page's <link> says.
    path("favicon.ico", core_views.static_redirect, {"name": "hemei/icons/favicon.ico"}),
    path("apple-touch-icon.png", core_views.static_redirect, {"name": "hemei/icons/apple-touch-icon.png"}),
    path("login/", account_views.login_view, name="login"),
    path("logout/", account_views.logout_view, name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/whoami/", core_api.whoami, name="api-whoami"),
    path("api/v1/", include("hemei.regions.api_urls")),
    path("api/v1/", include("hemei.visits.api_urls")),
    path("api/v1/", include("hemei.cases.api_urls")),
    path("api/v1/", include("hemei.points.api_urls")),
    path("api/v1/", include((ledger_api.urls(), "ledgers"))),
    path("api/v1/", include("hemei.care.api_urls")),
    path("api/v1/", include("hemei.devices.api_urls")),
    path("api/v1/", include("hemei.party.api_urls")),
    path("open311/v2/", include("hemei.cases.open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as its own file (/api/docs/?script), so
    # the page runs under the CSP's script-src 'self' (the inline script of the plain view is blocked).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("hemei.regions.urls")),
    path("", include("hemei.regions.urls_roster")),
    path("", include("hemei.cases.urls")),
    path("", include("hemei.meetings.urls")),
    path("", include("hemei.disclosure.urls")),
    path("", include("hemei.notify.urls")),
    path("", include("hemei.visits.urls")),
    path("", include("hemei.points.urls")),
    path("", include("hemei.stars.urls")),
    path("", include("hemei.courtyard.urls")),
    path("", include("hemei.assets.urls")),
    path("", include("hemei.contracts.urls")),
    path("", include("hemei.care.urls")),
    path("", include("hemei.dashboards.urls")),
    path("api/v1/", include("hemei.indicators.api_urls")),
    path("", include("hemei.devices.urls")),
    path("", include("hemei.party.urls")),
    path("", include("hemei.services.urls")),
    path("api/v1/", include("hemei.services.api_urls")),
    path("", include("hemei.policies.urls")),
    path("api/v1/", include("hemei.policies.api_urls")),
]
