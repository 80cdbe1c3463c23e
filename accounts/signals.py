from allauth.account.signals import user_signed_up
from django.dispatch import receiver


@receiver(user_signed_up)
def give_new_user_an_organization(request, user, **kwargs):
    """Someone who signs up on their own gets an organization they own; an invited person
    (pending invitation for their address) joins that organization instead."""
    from accounts.models import Invitation
    from accounts.services import invitation_accept, organization_create

    pending = [i for i in Invitation.objects.unscoped().filter(email__iexact=user.email) if i.is_usable]
    for invitation in pending:
        invitation_accept(invitation=invitation, user=user)
    if not pending:
        organization_create(name=f"{user.email.split('@')[0]}'s organization", owner=user)
