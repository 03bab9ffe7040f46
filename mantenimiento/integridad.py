"""Integrity checks of DESIGN.md invariant 2: every patient login belongs to one active patient,
every portal profile to such a login, and a login agrees with its patient record. Registered in
``nucleo.integridad`` by ``MantenimientoConfig.ready``.

They live here, not in ``cuentas``, because they read the tables of ``pacientes``, ``cuentas``
and ``personal`` (a login is a patient's only when no staff profile points at it), and because
they share their SQL with the services that repair what they find (``limpiar_registros_huerfanos``,
``sincronizar_clientes``): the check and the repair cannot disagree on what an orphan is.
"""

from __future__ import annotations

from mantenimiento.selectors import desajustes, huerfanos
from nucleo.integridad import Hallazgo, registrar


@registrar("cuentas")
def cuentas_huerfanas(*, limite):
    """Orphan patient logins and portal profiles (one query)."""
    huerf = huerfanos(limite=limite)
    yield Hallazgo(
        "cuenta_huerfana", 2, "Cuentas de paciente sin ficha activa (no son personal)", huerf.total_usuarios,
        [{"user_id": u.id, "ficha_inactiva": u.ficha_inactiva} for u in huerf.usuarios],
        "Ejecute limpiar_registros_huerfanos.",
    )
    yield Hallazgo(
        "perfil_huerfano", 2, "Perfiles del portal cuya cuenta no tiene ficha activa", huerf.total_perfiles,
        [{"perfil_id": p.id, "user_id": p.user_id, "de_personal": p.de_personal} for p in huerf.perfiles],
        "Ejecute limpiar_registros_huerfanos.",
    )


@registrar("cuentas")
def cuentas_desajustadas(*, limite):
    """What ``sincronizar_clientes`` would repair, and the ambiguous links it leaves to a
    person (three queries)."""
    desaj = desajustes(limite=limite)
    yield Hallazgo(
        "cuenta_por_vincular", 2,
        "Pacientes activos sin cuenta vinculada cuya cuenta existe (mismo correo o usuario)",
        desaj.total_por_vincular, [v.__dict__ for v in desaj.por_vincular],
        "Ejecute sincronizar_clientes.",
    )
    yield Hallazgo(
        "vinculo_ambiguo", 2,
        "Pacientes o cuentas con más de un candidato para vincular (no se adivina)",
        desaj.total_ambiguos, [v.__dict__ for v in desaj.ambiguos],
        "Revise esas fichas y cuentas a mano.",
    )
    yield Hallazgo(
        "cuenta_desincronizada", 2, "Cuentas cuyo correo, usuario o nombre no coincide con su ficha",
        desaj.total_desajustadas,
        [{"cliente_id": d.cliente_id, "user_id": d.user_id, "campos": list(d.campos), "conflicto": d.conflicto}
         for d in desaj.desajustadas],
        "Ejecute sincronizar_clientes (los conflictos se revisan a mano).",
    )
    yield Hallazgo(
        "cuenta_sin_perfil", 2, "Cuentas de pacientes activos sin perfil del portal", desaj.total_sin_perfil,
        [v.__dict__ for v in desaj.sin_perfil], "Ejecute sincronizar_clientes.",
    )
