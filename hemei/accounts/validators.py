"""Password policy (MLPS level 2): at least 3 of 4 character classes, nothing like the user name."""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def character_classes(password: str) -> int:
    return sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )


class CharacterClassValidator:
    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(
                _(
                    "The password must mix at least %(n)d of: lower-case letters, upper-case "
                    "letters, digits, symbols."
                )
                % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("Use at least 3 of: lower-case letters, upper-case letters, digits, symbols.")


class NotLikeUserNameValidator:
    """Refuse a password that contains, or closely resembles, the account's user name, display
    name or phone (ignoring case): "Secretary#2026" for `secretary` is the first guess anyone
    makes. Django's UserAttributeSimilarityValidator alone lets a long suffix dilute the match."""

    ATTRIBUTES = ("username", "display_name", "phone")

    def __init__(self, max_similarity: float = 0.7) -> None:
        self.max_similarity = max_similarity

    def validate(self, password: str, user: Any = None) -> None:
        if user is None:
            return
        lowered = password.lower()
        for name in self.ATTRIBUTES:
            value = str(getattr(user, name, "") or "").lower()
            if len(value) < 3:
                continue
            similar = SequenceMatcher(a=lowered, b=value).ratio() >= self.max_similarity
            if value in lowered or value[::-1] in lowered or similar:
                raise ValidationError(
                    _("The password is too similar to the user name, display name or phone."),
                    code="password_too_similar",
                )

    def get_help_text(self) -> str:
        return _("The password may not contain the user name, display name or phone.")
