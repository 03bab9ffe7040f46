"""Integrity reads: orphans, drift between a patient and their login, and every invariant of
DESIGN.md that data imported around the constraints could break.

Every check is one set-wise SQL query (joins and aggregates, never a loop per row), so the
reports stay fast on a million patients. Definitions follow DESIGN.md invariant 2 exactly: a
*patient login* is a ``User`` that is not ``is_staff``, not superuser and has no
``personal_perfil`` row; it is an orphan when no *active* ``Cliente`` points at it (a
deactivated patient's account is one too); a ``PerfilCliente`` is an orphan when its user has no
active ``Cliente``.

One refinement, so that no command destroys what another would repair: a login that belongs to
no patient but whose e-mail or username is the e-mail of an active patient without an account
(the seed's fallback for old data) is *por vincular*, not an orphan. ``sincronizar_clientes``
links it; ``limpiar_registros_huerfanos`` never deletes it; ``verificar_integridad`` reports it.
"""

from __future__ import annotations

import datetime
import os
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cuentas.models import Canal
from notificaciones.canales import canales_con_entrega

LIMITE_EJEMPLOS = 10
# Memory for the sorts and hashes of one check over whole tables. PostgreSQL's default (4 MB)
# sends a million rows to disk and triples the time; a query holds a few of these at most.
WORK_MEM = os.environ.get("MANTENIMIENTO_WORK_MEM", "128MB")


@contextmanager
def memoria_para_consultas():
    """``work_mem = WORK_MEM`` for the current transaction only (opens one, or a savepoint)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
        yield


def _canales_con_entrega() -> set[str]:
    """Channels whose pending rows a worker delivers (read at call time: settings decide)."""
    return set(canales_con_entrega())


def _filas(sql, parametros=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, parametros or [])
        columnas = [c[0] for c in cursor.description]
        return [dict(zip(columnas, fila)) for fila in cursor.fetchall()]


def _limite(limite):
    """SQL LIMIT value: None or 0 mean all rows."""
    return None if not limite else int(limite)


# SQL pieces shared with mantenimiento.services ----------------------------------------------


def no_personal(u: str) -> str:
    """SQL: ``u`` (an alias of auth_user) is a patient login, not staff (invariant 2)."""
    return (
        f"(NOT {u}.is_staff AND NOT {u}.is_superuser "
        f"AND NOT EXISTS (SELECT 1 FROM personal_perfil pp WHERE pp.user_id = {u}.id))"
    )


# Python's whitespace (what ``str.split()`` splits on), as SQL: PostgreSQL's ``\s`` leaves out
# some of it (no-break spaces, U+001C..U+001F), and names pasted from documents carry them.
_ESPACIOS = [chr(n) for n in range(0x3001) if chr(n).isspace()]
_CLASE_ESPACIOS = "('[' || " + " || ".join(f"chr({ord(c)})" for c in _ESPACIOS) + " || ']+')"
_OTROS_ESPACIOS = "(" + " || ".join(f"chr({ord(c)})" for c in _ESPACIOS if c != " ") + ")"


def nombre_de_cuenta(columna: str) -> str:
    """SQL for a LATERAL subquery giving ``nombre``/``apellido`` of ``columna`` exactly as
    ``cuentas.services.dividir_nombre`` splits a full name (Chileans carry two surnames)."""
    return f"""
        LATERAL (SELECT array_remove(regexp_split_to_array({columna}, {_CLASE_ESPACIOS}), '') AS p) partes,
        LATERAL (SELECT
            left(CASE WHEN cardinality(partes.p) >= 4
                      THEN array_to_string(partes.p[1:cardinality(partes.p) - 2], ' ')
                      ELSE coalesce(partes.p[1], '') END, 150) AS nombre,
            left(CASE WHEN cardinality(partes.p) >= 4
                      THEN array_to_string(partes.p[cardinality(partes.p) - 1:cardinality(partes.p)], ' ')
                      ELSE array_to_string(partes.p[2:cardinality(partes.p)], ' ') END, 150) AS apellido
        ) nn"""


def nombre_al_dia(nombre: str, first: str, last: str) -> str:
    """SQL: a cheap test, without splitting, that (``first``, ``last``) is exactly
    ``dividir_nombre(nombre)`` for a name whose only whitespace is single spaces. False means
    "split it to know" (the rare case), not necessarily drift."""
    espacios = f"(length({nombre}) - length(replace({nombre}, ' ', '')))"
    return f"""({first} || ' ' || {last} = {nombre}
        AND length({nombre}) <= 150 AND strpos({nombre}, '  ') = 0 AND {nombre} = btrim({nombre})
        AND {nombre} !~ ('[' || {_OTROS_ESPACIOS} || ']')
        AND CASE WHEN {espacios} >= 3 THEN length({last}) - length(replace({last}, ' ', '')) = 1
                 ELSE strpos({first}, ' ') = 0 END)"""


def digito_verificador(cuerpo: str) -> str:
    """SQL: the RUT check digit (módulo 11) of ``cuerpo``, an integer expression of up to 8
    digits. Integer arithmetic only: the same on a million rows as in stdnum."""
    pesos = [2, 3, 4, 5, 6, 7, 2, 3]
    suma = " + ".join(f"mod({cuerpo} / {10**i}, 10) * {p}" for i, p in enumerate(pesos))
    # 11 - (suma mod 11), with 11 → '0' and 10 → 'K', indexed by suma mod 11.
    return f"substr('0K987654321', mod({suma}, 11)::int + 1, 1)"


# Logins without an active patient (``sin_ficha``), the ones the seed's fallback would link
# (``vinculables``) and the true orphans (``huerfanos``: patient logins, and staff logins that
# carry a PerfilCliente). Anti-joins and equality joins only, so PostgreSQL hashes or merges them.
CTE_HUERFANOS = f"""
    sin_ficha AS MATERIALIZED (
        SELECT u.id AS user_id, u.username, u.email, u.is_active, {no_personal('u')} AS es_paciente,
               EXISTS (SELECT 1 FROM pacientes_cliente ci WHERE ci.user_id = u.id) AS ficha_inactiva
          FROM auth_user u
         WHERE NOT EXISTS (SELECT 1 FROM pacientes_cliente c WHERE c.user_id = u.id AND c.activo)
    ),
    sueltas AS MATERIALIZED (
        SELECT c.id AS cliente_id, c.email FROM pacientes_cliente c
         WHERE c.activo AND c.user_id IS NULL AND c.email <> ''
    ),
    candidatos AS MATERIALIZED (
        SELECT x.cliente_id, s.user_id FROM sin_ficha s JOIN sueltas x ON x.email = lower(btrim(s.email))
         WHERE s.es_paciente AND NOT s.ficha_inactiva
        UNION
        SELECT x.cliente_id, s.user_id FROM sin_ficha s JOIN sueltas x ON x.email = lower(btrim(s.username))
         WHERE s.es_paciente AND NOT s.ficha_inactiva
    ),
    huerfanos AS MATERIALIZED (
        SELECT s.* FROM sin_ficha s
         WHERE NOT EXISTS (SELECT 1 FROM candidatos v WHERE v.user_id = s.user_id)
           AND (s.es_paciente OR EXISTS (SELECT 1 FROM cuentas_perfilcliente p WHERE p.user_id = s.user_id))
    )"""


# Orphans (limpiar_registros_huerfanos) --------------------------------------------------------


@dataclass(frozen=True, order=True)
class UsuarioHuerfano:
    id: int
    username: str
    email: str
    ficha_inactiva: bool  # False: no patient at all; True: only deactivated ones


@dataclass(frozen=True, order=True)
class PerfilHuerfano:
    id: int
    user_id: int
    username: str
    de_personal: bool  # the user is staff: only the profile goes, never the login


@dataclass
class Huerfanos:
    usuarios: list[UsuarioHuerfano] = field(default_factory=list)
    total_usuarios: int = 0
    perfiles: list[PerfilHuerfano] = field(default_factory=list)
    total_perfiles: int = 0
    por_vincular: int = 0  # logins kept for sincronizar_clientes (the seed's fallback)

    @property
    def vacio(self):
        return not (self.total_usuarios or self.total_perfiles)


@memoria_para_consultas()
def huerfanos(*, limite=100) -> Huerfanos:
    """The orphan logins and portal profiles (invariant 2), up to ``limite`` of each listed
    (None or 0: all), with the totals. One query."""
    filas = _filas(
        f"""
        WITH {CTE_HUERFANOS},
        usuarios AS (
            SELECT 'usuario' AS tipo, h.user_id AS id, h.user_id, h.username, h.email, h.ficha_inactiva,
                   false AS de_personal, count(*) OVER () AS total
              FROM huerfanos h WHERE h.es_paciente ORDER BY h.user_id LIMIT %(limite)s
        ),
        perfiles AS (
            SELECT 'perfil' AS tipo, p.id, p.user_id, h.username, h.email, h.ficha_inactiva,
                   NOT h.es_paciente AS de_personal, count(*) OVER () AS total
              FROM cuentas_perfilcliente p JOIN huerfanos h ON h.user_id = p.user_id
             ORDER BY p.id LIMIT %(limite)s
        )
        SELECT * FROM usuarios
        UNION ALL SELECT * FROM perfiles
        UNION ALL SELECT 'vinculables', count(DISTINCT user_id), NULL, NULL, NULL, NULL, NULL, NULL FROM candidatos
        """,
        {"limite": _limite(limite)},
    )
    resultado = Huerfanos()
    for fila in filas:
        if fila["tipo"] == "usuario":
            resultado.total_usuarios = fila["total"]
            resultado.usuarios.append(
                UsuarioHuerfano(fila["id"], fila["username"], fila["email"], fila["ficha_inactiva"])
            )
        elif fila["tipo"] == "perfil":
            resultado.total_perfiles = fila["total"]
            resultado.perfiles.append(PerfilHuerfano(fila["id"], fila["user_id"], fila["username"], fila["de_personal"]))
        else:
            resultado.por_vincular = fila["id"]
    return resultado


# Drift between a patient and their login (sincronizar_clientes) --------------------------------

# Active patients linked to a patient login whose e-mail, username or names differ from the
# record. ``conflicto``: the repair would need an e-mail that is empty, too long for a username,
# or already used by another login (validar_username_disponible's rule): reported, never guessed.
CTE_DERIVA = f"""
    deriva_base AS MATERIALIZED (
        SELECT c.id AS cliente_id, u.id AS user_id, c.email AS email_ficha, c.nombre_completo,
               u.first_name, u.last_name, u.email <> c.email AS email_distinto, u.username <> c.email AS usuario_distinto
          FROM pacientes_cliente c JOIN auth_user u ON u.id = c.user_id
         WHERE c.activo AND {no_personal('u')}
           AND (u.email <> c.email OR u.username <> c.email
                OR NOT {nombre_al_dia('c.nombre_completo', 'u.first_name', 'u.last_name')})
    ),
    deriva AS MATERIALIZED (
        SELECT b.cliente_id, b.user_id, b.email_ficha, nn.nombre, nn.apellido, b.email_distinto, b.usuario_distinto,
               (b.first_name <> nn.nombre OR b.last_name <> nn.apellido) AS nombre_distinto
          FROM deriva_base b, {nombre_de_cuenta('b.nombre_completo')}
         WHERE b.email_distinto OR b.usuario_distinto OR b.first_name <> nn.nombre OR b.last_name <> nn.apellido
    ),
    ocupados AS MATERIALIZED (
        SELECT d.cliente_id FROM deriva d JOIN auth_user o ON lower(o.username) = d.email_ficha
         WHERE o.id <> d.user_id AND (d.email_distinto OR d.usuario_distinto)
        UNION
        SELECT d.cliente_id FROM deriva d JOIN auth_user o ON lower(o.email) = d.email_ficha
         WHERE o.id <> d.user_id AND (d.email_distinto OR d.usuario_distinto)
    ),
    deriva_revisada AS (
        SELECT d.*, (d.email_ficha = '' OR length(d.email_ficha) > 150
                     OR d.cliente_id IN (SELECT cliente_id FROM ocupados)
                     OR d.email_ficha IN (SELECT e.email_ficha FROM deriva e
                                           GROUP BY e.email_ficha HAVING count(*) > 1)) AS conflicto
          FROM deriva d
    )"""

# Pairs (active patient without account, free patient login) that the fallback finds; a pair is
# unambiguous when neither side has another candidate.
CTE_VINCULOS = f"""
    {CTE_HUERFANOS},
    vinculos AS (
        SELECT v.cliente_id, v.user_id,
               count(*) OVER (PARTITION BY v.cliente_id) AS por_ficha,
               count(*) OVER (PARTITION BY v.user_id) AS por_cuenta
          FROM candidatos v
    )"""

# Active patients whose patient login has no PerfilCliente (the portal needs one).
SQL_SIN_PERFIL = f"""
    SELECT c.id AS cliente_id, c.user_id, count(*) OVER () AS total
      FROM pacientes_cliente c JOIN auth_user u ON u.id = c.user_id
     WHERE c.activo AND {no_personal('u')}
       AND NOT EXISTS (SELECT 1 FROM cuentas_perfilcliente p WHERE p.user_id = c.user_id)
     ORDER BY c.id
"""


@dataclass(frozen=True)
class CuentaDesajustada:
    cliente_id: int
    user_id: int
    campos: tuple[str, ...]  # which of "email", "usuario", "nombre" differ
    conflicto: bool


@dataclass(frozen=True)
class Vinculo:
    cliente_id: int
    user_id: int


@dataclass
class Desajustes:
    por_vincular: list[Vinculo] = field(default_factory=list)
    total_por_vincular: int = 0
    ambiguos: list[Vinculo] = field(default_factory=list)  # every candidate pair of an ambiguous case
    total_ambiguos: int = 0  # patients or logins with more than one candidate
    desajustadas: list[CuentaDesajustada] = field(default_factory=list)
    total_desajustadas: int = 0
    total_conflictos: int = 0
    sin_perfil: list[Vinculo] = field(default_factory=list)
    total_sin_perfil: int = 0

    @property
    def vacio(self):
        return not (self.total_por_vincular or self.total_ambiguos or self.total_desajustadas or self.total_sin_perfil)


@memoria_para_consultas()
def desajustes(*, limite=100) -> Desajustes:
    """What ``sincronizar_clientes`` would repair, and the ambiguous cases it leaves to a person.
    Three queries; up to ``limite`` rows of each kind listed (None or 0: all)."""
    limite = _limite(limite)
    resultado = Desajustes()
    for fila in _filas(
        f"""
        WITH {CTE_VINCULOS},
        marcados AS (SELECT v.*, (v.por_ficha = 1 AND v.por_cuenta = 1) AS unico FROM vinculos v),
        totales AS (
            SELECT count(*) FILTER (WHERE unico) AS unicos,
                   count(DISTINCT cliente_id) FILTER (WHERE por_ficha > 1)
                   + count(DISTINCT user_id) FILTER (WHERE por_cuenta > 1 AND por_ficha = 1) AS ambiguos
              FROM marcados
        ),
        numerados AS (
            SELECT m.*, row_number() OVER (PARTITION BY m.unico ORDER BY m.cliente_id, m.user_id) AS n
              FROM marcados m
        )
        SELECT x.cliente_id, x.user_id, x.unico, t.unicos, t.ambiguos
          FROM totales t LEFT JOIN numerados x ON (%(limite)s::int IS NULL OR x.n <= %(limite)s::int)
         ORDER BY x.cliente_id, x.user_id
        """,
        {"limite": limite},
    ):
        resultado.total_por_vincular, resultado.total_ambiguos = fila["unicos"], fila["ambiguos"]
        if fila["cliente_id"] is None:
            continue
        vinculo = Vinculo(fila["cliente_id"], fila["user_id"])
        (resultado.por_vincular if fila["unico"] else resultado.ambiguos).append(vinculo)
    for fila in _filas(
        f"""
        WITH {CTE_DERIVA}
        SELECT d.*, count(*) OVER () AS total, count(*) FILTER (WHERE d.conflicto) OVER () AS conflictos
          FROM deriva_revisada d ORDER BY d.conflicto DESC, d.cliente_id LIMIT %(limite)s
        """,
        {"limite": limite},
    ):
        campos = tuple(
            nombre for nombre, distinto in (
                ("email", fila["email_distinto"]), ("usuario", fila["usuario_distinto"]),
                ("nombre", fila["nombre_distinto"]),
            ) if distinto
        )
        resultado.desajustadas.append(
            CuentaDesajustada(fila["cliente_id"], fila["user_id"], campos, fila["conflicto"])
        )
        resultado.total_desajustadas = fila["total"]
        resultado.total_conflictos = fila["conflictos"]
    for fila in _filas(SQL_SIN_PERFIL + " LIMIT %(limite)s", {"limite": limite}):
        resultado.sin_perfil.append(Vinculo(fila["cliente_id"], fila["user_id"]))
        resultado.total_sin_perfil = fila["total"]
    return resultado


# verificar_integridad -----------------------------------------------------------------------


@dataclass
class Hallazgo:
    """One check of the report: how many rows break it (0: fine) and a few examples."""

    codigo: str
    invariante: int
    descripcion: str
    cantidad: int = 0
    ejemplos: list = field(default_factory=list)
    accion: str = ""
    informativo: bool = False  # shown, never counted as a problem

    @property
    def ok(self):
        return self.informativo or self.cantidad == 0


@dataclass
class InformeIntegridad:
    generado: datetime.datetime
    hallazgos: list[Hallazgo]

    @property
    def problemas(self):
        return [h for h in self.hallazgos if not h.ok]

    @property
    def total_problemas(self):
        return sum(h.cantidad for h in self.problemas)

    @property
    def ok(self):
        return not self.problemas

    def como_dict(self):
        return {
            "ok": self.ok,
            "generado": self.generado.isoformat(),
            "total_problemas": self.total_problemas,
            "hallazgos": [
                {
                    "codigo": h.codigo, "invariante": h.invariante, "descripcion": h.descripcion,
                    "cantidad": h.cantidad, "ok": h.ok, "informativo": h.informativo,
                    "accion": h.accion, "ejemplos": h.ejemplos,
                }
                for h in self.hallazgos
            ],
        }


# Normal forms computed in SQL, so that duplicates are found even among values that were
# imported in another spelling (the CHECK constraints may have been added NOT VALID).
_RUT_FORMA = "'^[1-9][0-9]{0,7}-[0-9K]$'"
_TEL_FORMA = "'^\\+[1-9][0-9]{6,14}$'"
_RUT_COMPACTO = "upper(regexp_replace(c.rut, '[^0-9kK]', '', 'g'))"
RUT_NORMAL_SQL = (f"(CASE WHEN c.rut ~ {_RUT_FORMA} THEN c.rut "
                  f"ELSE ltrim(left({_RUT_COMPACTO}, -1), '0') || '-' || right({_RUT_COMPACTO}, 1) END)")
EMAIL_NORMAL_SQL = "lower(btrim(c.email))"
_TEL_DIGITOS = "regexp_replace(c.telefono, '[^0-9]', '', 'g')"
TELEFONO_NORMAL_SQL = (f"(CASE WHEN c.telefono ~ {_TEL_FORMA} THEN c.telefono "
                       f"ELSE CASE WHEN length({_TEL_DIGITOS}) = 9 THEN '+56' ELSE '+' END || {_TEL_DIGITOS} END)")

# Phase 1 hashes the keys and keeps the repeated ones (no sort of a million rows); phase 2
# fetches only their rows.
_DUPLICADOS = """
    SELECT k.norma AS valor, array_agg(c.id ORDER BY c.id) AS clientes, count(*) OVER () AS grupos,
           sum(count(*)) OVER () AS filas
      FROM (SELECT {norma} AS norma FROM pacientes_cliente c WHERE c.activo AND c.{campo} <> ''
             GROUP BY 1 HAVING count(*) > 1) k
      JOIN pacientes_cliente c ON c.activo AND c.{campo} <> '' AND {norma} = k.norma
     GROUP BY k.norma ORDER BY min(c.id) LIMIT %(limite)s
"""

# What the database itself guarantees on pacientes_cliente: a normal-form CHECK that is
# validated covers every row; a unique index that is valid forbids duplicates outright.
_CHECKS_FORMA = {"rut": "cliente_rut_normalizado", "email": "cliente_email_normalizado",
                 "telefono": "cliente_telefono_e164"}
_INDICES_UNICOS = {"rut": "cliente_rut_activo_unico", "email": "cliente_email_activo_unico",
                   "telefono": "cliente_telefono_activo_unico"}


def _garantias():
    """({field: normal form guaranteed}, {field: uniqueness among active patients guaranteed})."""
    filas = _filas(
        """SELECT conname AS nombre, convalidated AS vale FROM pg_constraint
            WHERE conrelid = 'pacientes_cliente'::regclass AND contype = 'c' AND conname = ANY(%(checks)s)
           UNION ALL
           SELECT i.relname, x.indisvalid AND x.indisunique FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = 'pacientes_cliente'::regclass AND i.relname = ANY(%(indices)s)""",
        {"checks": list(_CHECKS_FORMA.values()), "indices": list(_INDICES_UNICOS.values())},
    )
    vigentes = {f["nombre"] for f in filas if f["vale"]}
    forma = {campo: nombre in vigentes for campo, nombre in _CHECKS_FORMA.items()}
    unico = {campo: forma[campo] and nombre in vigentes for campo, nombre in _INDICES_UNICOS.items()}
    return forma, unico


def _duplicados(campo, norma, limite, *, forma, unico):
    if unico:
        return 0, []  # the unique index on the normal form forbids them
    if forma:
        norma = "lower(c.email)" if campo == "email" else f"c.{campo}"  # stored in normal form already
    filas = _filas(_DUPLICADOS.format(campo=campo, norma=norma), {"limite": limite})
    if not filas:
        return 0, []
    # The count is of patients involved: each group of k duplicates is k rows to review.
    return int(filas[0]["filas"]), [{"valor_normalizado": f["valor"], "clientes": f["clientes"]} for f in filas]


def _conteo_y_ejemplos(sql, limite, parametros=None):
    filas = _filas(sql + " LIMIT %(limite)s", {"limite": limite, **(parametros or {})})
    if not filas:
        return 0, []
    total = filas[0].pop("total")
    for fila in filas[1:]:
        fila.pop("total")
    return int(total), [_serializable(f) for f in filas]


def _serializable(fila):
    return {k: (v.isoformat() if isinstance(v, datetime.datetime) else v) for k, v in fila.items()}


def plazo_avisos() -> datetime.timedelta:
    """How long a deliverable notification may stay pending: the whole retry schedule
    (attempt n waits base**n seconds) plus an hour for queues and workers restarting."""
    base, intentos = settings.NOTIFICACIONES_ESPERA_BASE_S, settings.NOTIFICACIONES_MAX_INTENTOS
    return datetime.timedelta(seconds=sum(base**n for n in range(1, intentos + 1)) + 3600)


@memoria_para_consultas()
def verificar_integridad(*, limite_ejemplos=LIMITE_EJEMPLOS) -> InformeIntegridad:
    """Check every invariant of DESIGN.md that imported data, restored backups or SQL by hand
    could break. One query per check; examples carry ids only."""
    lim = _limite(limite_ejemplos) or None
    hallazgos = []

    def agregar(codigo, invariante, descripcion, accion, resultado, informativo=False):
        cantidad, ejemplos = resultado
        hallazgos.append(Hallazgo(codigo, invariante, descripcion, cantidad, ejemplos, accion, informativo))

    revisar = "Revise las fichas a mano (gestión de pacientes): fusione o desactive las repetidas."
    # Invariant 1: no two active patients share a RUT, e-mail or phone, in normal form.
    forma, unico = _garantias()
    for campo, norma, descripcion in (
        ("rut", RUT_NORMAL_SQL, "Pacientes activos con el mismo RUT"),
        ("email", EMAIL_NORMAL_SQL, "Pacientes activos con el mismo correo"),
        ("telefono", TELEFONO_NORMAL_SQL, "Pacientes activos con el mismo teléfono"),
    ):
        agregar(f"{campo}_duplicado", 1, descripcion, revisar,
                _duplicados(campo, norma, lim, forma=forma[campo], unico=unico[campo]))
    agregar(
        "dato_no_normalizado", 1,
        # The check digit has no constraint; the shapes are skipped where a validated CHECK holds them.
        "Pacientes activos con RUT, correo o teléfono fuera de su forma normal o con dígito verificador incorrecto",
        "Corrija el dato en la ficha del paciente.",
        _conteo_y_ejemplos(
            f"""
            SELECT x.id AS cliente_id,
                   array_remove(ARRAY[CASE WHEN x.rut_malo THEN 'rut' END, CASE WHEN x.email_malo THEN 'email' END,
                                      CASE WHEN x.tel_malo THEN 'telefono' END], NULL) AS campos,
                   count(*) OVER () AS total
              FROM (SELECT c.id,
                           c.rut <> '' AND CASE WHEN {"true" if forma["rut"] else f"c.rut ~ {_RUT_FORMA}"}
                               THEN {digito_verificador("split_part(c.rut, '-', 1)::int")} <> split_part(c.rut, '-', 2)
                               ELSE true END AS rut_malo,
                           {"false" if forma["email"] else "c.email <> lower(btrim(c.email))"} AS email_malo,
                           {"false" if forma["telefono"] else f"c.telefono <> '' AND c.telefono !~ {_TEL_FORMA}"}
                               AS tel_malo
                      FROM pacientes_cliente c WHERE c.activo) x
             WHERE x.rut_malo OR x.email_malo OR x.tel_malo
             ORDER BY x.id""",
            lim,
        ),
    )

    # Invariant 2: every patient login belongs to one active patient; profiles to such logins.
    huerf = huerfanos(limite=lim)
    hallazgos.append(Hallazgo(
        "cuenta_huerfana", 2, "Cuentas de paciente sin ficha activa (no son personal)", huerf.total_usuarios,
        [{"user_id": u.id, "ficha_inactiva": u.ficha_inactiva} for u in huerf.usuarios],
        "Ejecute limpiar_registros_huerfanos.",
    ))
    hallazgos.append(Hallazgo(
        "perfil_huerfano", 2, "Perfiles del portal cuya cuenta no tiene ficha activa", huerf.total_perfiles,
        [{"perfil_id": p.id, "user_id": p.user_id, "de_personal": p.de_personal} for p in huerf.perfiles],
        "Ejecute limpiar_registros_huerfanos.",
    ))
    desaj = desajustes(limite=lim)
    hallazgos.append(Hallazgo(
        "cuenta_por_vincular", 2,
        "Pacientes activos sin cuenta vinculada cuya cuenta existe (mismo correo o usuario)",
        desaj.total_por_vincular, [v.__dict__ for v in desaj.por_vincular],
        "Ejecute sincronizar_clientes.",
    ))
    hallazgos.append(Hallazgo(
        "vinculo_ambiguo", 2,
        "Pacientes o cuentas con más de un candidato para vincular (no se adivina)",
        desaj.total_ambiguos, [v.__dict__ for v in desaj.ambiguos],
        "Revise esas fichas y cuentas a mano.",
    ))
    hallazgos.append(Hallazgo(
        "cuenta_desincronizada", 2, "Cuentas cuyo correo, usuario o nombre no coincide con su ficha",
        desaj.total_desajustadas,
        [{"cliente_id": d.cliente_id, "user_id": d.user_id, "campos": list(d.campos), "conflicto": d.conflicto}
         for d in desaj.desajustadas],
        "Ejecute sincronizar_clientes (los conflictos se revisan a mano).",
    ))
    hallazgos.append(Hallazgo(
        "cuenta_sin_perfil", 2, "Cuentas de pacientes activos sin perfil del portal", desaj.total_sin_perfil,
        [v.__dict__ for v in desaj.sin_perfil], "Ejecute sincronizar_clientes.",
    ))

    # Invariant 3: a dentist never has two live appointments that overlap (one sort, no self-join).
    agregar(
        "citas_traslapadas", 3, "Citas vigentes de un dentista que se traslapan con otra anterior",
        "Reprograme o cancele una de las citas en la agenda.",
        _conteo_y_ejemplos(
            """
            SELECT id AS cita_id, dentista_id, inicio, count(*) OVER () AS total FROM (
                SELECT id, dentista_id, inicio,
                       max(fin) OVER (PARTITION BY dentista_id ORDER BY inicio, id
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS fin_previo
                  FROM citas_cita WHERE estado <> 'cancelada') x
             WHERE fin_previo > inicio ORDER BY id""",
            lim,
        ),
    )
    # Invariant 4: an appointment's state and its patient agree.
    agregar(
        "cita_reservada_sin_paciente", 4, "Citas tomadas sin paciente ni nombre en la copia de la cita",
        "Asigne el paciente o libere la hora en la agenda.",
        _conteo_y_ejemplos(
            """SELECT id AS cita_id, estado, count(*) OVER () AS total FROM citas_cita
                WHERE estado <> 'disponible' AND cliente_id IS NULL AND paciente_nombre = '' ORDER BY id""",
            lim,
        ),
    )
    agregar(
        "cita_disponible_con_paciente", 4, "Horas disponibles que tienen paciente",
        "Revise la hora en la agenda: reserve a nombre del paciente o límpiela.",
        _conteo_y_ejemplos(
            """SELECT id AS cita_id, count(*) OVER () AS total FROM citas_cita
                WHERE estado = 'disponible' AND (cliente_id IS NOT NULL OR paciente_nombre <> ''
                      OR paciente_email <> '' OR paciente_telefono <> '') ORDER BY id""",
            lim,
        ),
    )

    # Invariant 6: each notification is eventually sent or visibly failed.
    canales = sorted(_canales_con_entrega())
    agregar(
        "aviso_estancado", 6,
        "Avisos pendientes después de agotar sus reintentos o más antiguos que el plazo de reintentos",
        "Revise el proceso de tareas (procrastinate worker) y el proveedor; los avisos se reenvían solos.",
        _conteo_y_ejemplos(
            """SELECT id AS notificacion_id, canal, intentos, creado, count(*) OVER () AS total
                 FROM notificaciones_notificacion
                WHERE estado = 'pendiente' AND canal = ANY(%(canales)s)
                  AND (intentos >= %(max_intentos)s OR creado < %(limite_fecha)s)
                ORDER BY id""",
            lim,
            {"canales": canales, "max_intentos": settings.NOTIFICACIONES_MAX_INTENTOS,
             "limite_fecha": timezone.now() - plazo_avisos()},
        ),
    )
    agregar(
        "trabajo_fallido", 6,
        "Trabajos en segundo plano fallidos sin un aviso marcado como fallido que lo muestre",
        "Revise el error del trabajo en el registro del worker y vuelva a encolarlo.",
        _conteo_y_ejemplos(
            """SELECT j.id AS trabajo_id, j.task_name AS tarea, count(*) OVER () AS total
                 FROM procrastinate_jobs j
                 LEFT JOIN notificaciones_notificacion n
                        ON j.task_name = 'notificaciones.enviar' AND n.id = CASE
                           WHEN j.args ->> 'notificacion_id' ~ '^[0-9]{1,18}$' THEN (j.args ->> 'notificacion_id')::bigint END
                WHERE j.status = 'failed'
                  AND (j.task_name <> 'notificaciones.enviar' OR n.id IS NULL OR n.estado = 'pendiente')
                ORDER BY j.id""",
            lim,
        ),
    )
    # Shown for context, never a problem: visible failures are invariant 6 working as designed.
    agregar(
        "aviso_fallido", 6, "Avisos fallidos tras sus reintentos (visibles al personal)", "",
        _conteo_y_ejemplos(
            """SELECT id AS notificacion_id, canal, count(*) OVER () AS total FROM notificaciones_notificacion
                WHERE estado = 'fallida' ORDER BY id""",
            lim,
        ),
        informativo=True,
    )
    sin_proveedor = sorted(set(Canal.values) - set(canales))
    agregar(
        "aviso_sin_proveedor", 6, "Avisos pendientes de canales aún sin proveedor conectado", "",
        _conteo_y_ejemplos(
            """SELECT id AS notificacion_id, canal, count(*) OVER () AS total FROM notificaciones_notificacion
                WHERE estado = 'pendiente' AND canal = ANY(%(canales)s) ORDER BY id""",
            lim,
            {"canales": sin_proveedor},
        ),
        informativo=True,
    )
    return InformeIntegridad(generado=timezone.now(), hallazgos=hallazgos)
