"""Integrity checks of ``citas_cita`` (DESIGN.md invariants 3, 4 and 7): a dentist's live
appointments never overlap, an appointment's state agrees with its patient, and no free slot
lies in a closure of the clinic or of its dentist. Registered in
``nucleo.integridad`` by ``CitasConfig.ready``.
"""

from __future__ import annotations

from django.conf import settings

from nucleo.integridad import hallazgo_sql, registrar


@registrar("citas")
def citas_traslapadas(*, limite):
    """Invariant 3: live appointments of a dentist that overlap an earlier one (one sort by
    dentist and start, no self-join)."""
    yield hallazgo_sql(
        "citas_traslapadas", 3, "Citas vigentes de un dentista que se traslapan con otra anterior",
        "Reprograme o cancele una de las citas en la agenda.",
        """
        SELECT id AS cita_id, dentista_id, inicio, count(*) OVER () AS total FROM (
            SELECT id, dentista_id, inicio,
                   max(fin) OVER (PARTITION BY dentista_id ORDER BY inicio, id
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS fin_previo
              FROM citas_cita WHERE estado <> 'cancelada') x
         WHERE fin_previo > inicio ORDER BY id""",
        limite=limite,
    )


@registrar("citas")
def estado_y_paciente(*, limite):
    """Invariant 4: a taken appointment has a patient or a snapshot name; a free or blocked slot
    has none."""
    yield hallazgo_sql(
        "cita_reservada_sin_paciente", 4, "Citas tomadas sin paciente ni nombre en la copia de la cita",
        "Asigne el paciente o libere la hora en la agenda.",
        """SELECT id AS cita_id, estado, count(*) OVER () AS total FROM citas_cita
            WHERE estado NOT IN ('disponible', 'bloqueada') AND cliente_id IS NULL AND paciente_nombre = ''
            ORDER BY id""",
        limite=limite,
    )
    yield hallazgo_sql(
        "cita_disponible_con_paciente", 4, "Horas disponibles que tienen paciente",
        "Revise la hora en la agenda: reserve a nombre del paciente o límpiela.",
        """SELECT id AS cita_id, count(*) OVER () AS total FROM citas_cita
            WHERE estado = 'disponible' AND (cliente_id IS NOT NULL OR paciente_nombre <> ''
                  OR paciente_email <> '' OR paciente_telefono <> '') ORDER BY id""",
        limite=limite,
    )
    yield hallazgo_sql(
        "cita_bloqueada_con_paciente", 4, "Horas bloqueadas que tienen paciente",
        "Revise la hora en la agenda: desbloquéela o reserve a nombre del paciente.",
        """SELECT id AS cita_id, count(*) OVER () AS total FROM citas_cita
            WHERE estado = 'bloqueada' AND (cliente_id IS NOT NULL OR paciente_nombre <> ''
                  OR paciente_email <> '' OR paciente_telefono <> '') ORDER BY id""",
        limite=limite,
    )


@registrar("citas")
def cancelaciones(*, limite):
    """Every appointment cancelled by the clinic has its history row (``citas_cancelacion``,
    written with the change by ``_cancelar``), and a history row names the slot's dentist and
    start (copied at that moment; a slot never moves)."""
    yield hallazgo_sql(
        "cita_cancelada_sin_historial", 4, "Citas canceladas por la clínica sin su fila de cancelación",
        "Revise la auditoría de la cita: la cancelación no pasó por el servicio.",
        """SELECT c.id AS cita_id, count(*) OVER () AS total FROM citas_cita c
            WHERE c.estado = 'cancelada'
              AND NOT EXISTS (SELECT 1 FROM citas_cancelacion x WHERE x.cita_id = c.id AND x.por = 'clinica')
            ORDER BY c.id""",
        limite=limite,
    )
    yield hallazgo_sql(
        "cancelacion_no_coincide", 4, "Cancelaciones cuyo dentista o inicio no es el de su hora",
        "Revise la fila de cancelación y su hora en la auditoría.",
        """SELECT x.id AS cancelacion_id, x.cita_id, count(*) OVER () AS total
             FROM citas_cancelacion x JOIN citas_cita c ON c.id = x.cita_id
            WHERE x.inicio <> c.inicio OR x.dentista_id <> c.dentista_id ORDER BY x.id""",
        limite=limite,
    )


@registrar("citas")
def horas_libres_en_cierres(*, limite):
    """Invariant 7: a free slot on a day of a closure of the clinic or of its dentist (the
    trigger cita_libre_en_cierre blocks them; one here means it was bypassed)."""
    yield hallazgo_sql(
        "hora_libre_en_cierre", 7, "Horas libres en un día cerrado o de ausencia del dentista",
        "Reabra y vuelva a cerrar el período en Cierres y ausencias, o bloquee la hora en la agenda.",
        f"""SELECT c.id AS cita_id, count(*) OVER () AS total FROM citas_cita c
            WHERE c.estado = 'disponible' AND EXISTS (
                SELECT 1 FROM citas_cierre ci
                 WHERE (ci.dentista_id IS NULL OR ci.dentista_id = c.dentista_id)
                   AND (c.inicio AT TIME ZONE '{settings.TIME_ZONE}')::date BETWEEN ci.desde AND ci.hasta)
            ORDER BY c.id""",
        limite=limite,
    )
