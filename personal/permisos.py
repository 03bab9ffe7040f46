"""Who on the staff may do what, where a domain service asks (the staff site checks the same
roles on its views: ``gestion_clinica.permisos``)."""

from personal.models import Perfil, Rol


def es_de_mostrador(actor) -> bool:
    """The front desk: an active administrador or recepción, or an active superuser (a
    deactivated ``Perfil`` wins, as on the staff site). They resend notices, issue quotes and
    record the patient's answer at the desk, take payments and keep the cash box (dentists read
    notices, they do not resend them: ``NOTIFICACIONES_PUEDE_REENVIAR`` names this function for
    ``notificaciones.services.reenviar_notificacion``)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    perfil = Perfil.objects.filter(user_id=actor.pk).values_list("rol", "activo").first()
    if perfil is not None and not perfil[1]:
        return False
    return actor.is_superuser or (perfil is not None and perfil[0] in (Rol.ADMINISTRADOR, Rol.RECEPCION))


def es_administrador(actor) -> bool:
    """An active administrador, or an active superuser whose ``Perfil`` (if any) is not
    deactivated: the staff site's ``administrador`` role, asked by a domain service."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    perfil = Perfil.objects.filter(user_id=actor.pk).values_list("rol", "activo").first()
    if perfil is not None and not perfil[1]:
        return False
    return actor.is_superuser or (perfil is not None and perfil[0] == Rol.ADMINISTRADOR)
