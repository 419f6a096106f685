from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from hemei.accounts.forms import LoginForm
from hemei.accounts.services import LoginRefused, user_login, user_logout
from hemei.core import throttle


@never_cache
@csrf_protect
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        # Counted before the password is checked: a guesser is slowed whether or not it guesses
        # right, per address and per typed name (the same answer for names that do not exist).
        wait = throttle.wait_of(("login_ip", throttle.source(request)),
                                ("login_name", form.cleaned_data["login"].strip().lower()))
        if wait is not None:
            response = render(request, "accounts/login.html",
                              {"form": form, "error": throttle.wait_message(wait)}, status=429)
            response["Retry-After"] = str(wait)
            return response
        try:
            user_login(request=request, login_name=form.cleaned_data["login"],
                       password=form.cleaned_data["password"])
        except LoginRefused as exc:
            error = str(exc)
        else:
            target = request.GET.get("next", "")
            if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                return redirect(target)
            return redirect("home")
    return render(request, "accounts/login.html", {"form": form, "error": error},
                  status=401 if error else 200)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    user_logout(request=request)
    return redirect("login")
