"""Who acts: every application operation takes an actor (name, roles, clearance)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.core.vocabulary import Classification, Role


class AccessDenied(Exception):
    """The actor's role does not allow the operation (a document above clearance is *absent*, not denied)."""


READER_ROLES = (Role.STAFF, Role.ARCHIVIST, Role.RECORDS_OFFICER)


@dataclass(frozen=True)
class Actor:
    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    clearance: Classification = Classification.PUBLIC

    def has(self, role: Role) -> bool:
        return role in self.roles or Role.ADMIN in self.roles

    def require(self, role: Role, action: str) -> None:
        if not self.has(role):
            raise AccessDenied(f"user {self.name!r} may not {action} (needs the {role.value} role)")

    def require_reader(self, action: str) -> None:
        """Search, read and count documents: every role whose work needs them (staff, archivists, the records
        office; administrators have every role). A user without one of them reads nothing."""
        if not any(self.has(role) for role in READER_ROLES):
            raise AccessDenied(f"user {self.name!r} may not {action} (needs the staff, archivist or records-officer "
                               "role)")

    def can_see(self, classification: Classification | str) -> bool:
        return self.clearance.allows(Classification.parse(classification))

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "roles": sorted(r.value for r in self.roles), "clearance": self.clearance.value}


# The pipeline itself (Celery workers, beat): acts on behalf of the batch's submitter, sees everything.
SYSTEM = Actor("system", frozenset({Role.ADMIN}), Classification.TUYET_MAT)
