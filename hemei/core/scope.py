"""Who acts: the one definition of an acceptable actor for every service.

Every service takes `actor` and calls `require_actor(actor)` before it reads anything else.
A signed-in user is checked further against their scope by the app's access rules; the
explicit `SYSTEM` actor stands for code that acts on nobody's behalf (sweeps, the demo,
imports run by an operator, device ingestion). `None` and an anonymous user are refused
everywhere: a forgotten argument must never mean "no checks".
"""

from __future__ import annotations

from typing import Any, Final

from django.core.exceptions import PermissionDenied


class SystemActor:
    """The sentinel for work done by the system itself. It is not a user: audit rows record
    it by `label` with no user foreign key, and it passes every role check."""

    is_authenticated: Final = True
    is_active: Final = True
    is_superuser: Final = False
    pk: Final = None

    def __init__(self, label: str = "system") -> None:
        self.label = label

    def get_username(self) -> str:
        return self.label

    def __str__(self) -> str:
        return self.label

    def __repr__(self) -> str:
        return f"SystemActor({self.label!r})"


SYSTEM: Final = SystemActor()


def system(label: str) -> SystemActor:
    """A system actor named for the audit log (e.g. `system("sweep")`, `system("demo")`)."""
    return SystemActor(label)


def is_system(actor: Any) -> bool:
    return isinstance(actor, SystemActor)


def require_actor(actor: Any) -> None:
    """Refuse `None` and anonymous or inactive users before a service does anything else."""
    if is_system(actor):
        return
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise PermissionDenied("no actor")
