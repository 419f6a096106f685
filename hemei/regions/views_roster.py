from django.http import Http404, HttpRequest, HttpResponse


def roster_import_page(request: HttpRequest) -> HttpResponse:
    raise Http404  # replaced by the roster import page
