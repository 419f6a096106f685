"""Open311 GeoReport v2 at /open311/v2/ (http://wiki.open311.org/GeoReport_v2): categories are
services, cases are service requests, the county code is the jurisdiction_id. See docs/api.md."""
