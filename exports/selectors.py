"""Reads for the Reports page: finished analyses across every organization a person may export from."""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.permissions import Perm, role_can

REPORTS_PER_ORGANIZATION = 50


@dataclass
class OrganizationReports:
    membership: object
    can_export: bool
    analyses: list = field(default_factory=list)
    more: int = 0  # finished analyses beyond the ones listed
    recent_exports: list = field(default_factory=list)

    @property
    def organization(self):
        return self.membership.organization


def reports_for_memberships(memberships, *, user=None) -> list[OrganizationReports]:
    """For each of the person's organizations: may they export there, and its finished analyses (newest first).

    Each organization is read through its own fence (`for_organization`), never across tenants in one query.
    """
    from exports.models import Export
    from segments.selectors import analysis_list

    out = []
    for membership in sorted(memberships, key=lambda m: m.organization.name.lower()):
        entry = OrganizationReports(membership=membership, can_export=role_can(membership.role, Perm.EXPORT))
        if entry.can_export:
            finished = analysis_list(organization=membership.organization, status="succeeded").exclude(profiles=[])
            entry.analyses = list(finished[:REPORTS_PER_ORGANIZATION])
            if len(entry.analyses) == REPORTS_PER_ORGANIZATION:
                entry.more = finished.count() - REPORTS_PER_ORGANIZATION
            if user is not None:
                entry.recent_exports = list(
                    Export.objects.for_organization(membership.organization)
                    .filter(created_by=user)
                    .exclude(job=None)
                    .select_related("job", "analysis", "organization")[:5]
                )
        out.append(entry)
    return out
