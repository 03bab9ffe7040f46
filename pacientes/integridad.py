"""Integrity checks of ``pacientes_cliente`` (DESIGN.md invariant 1): no two active patients
share a RUT, an e-mail or a phone in normal form, and each of those is stored in normal form with
a valid RUT check digit. Registered in ``nucleo.integridad`` by ``PacientesConfig.ready``.

Normal forms are computed in SQL, so that duplicates are found even among values that were
imported in another spelling (the CHECK constraints may have been added NOT VALID).
"""

from __future__ import annotations

from nucleo.integridad import Hallazgo, filas, hallazgo_sql, registrar


def digito_verificador(cuerpo: str) -> str:
    """SQL: the RUT check digit (módulo 11) of ``cuerpo``, an integer expression of up to 8
    digits. Integer arithmetic only: the same on a million rows as in stdnum."""
    pesos = [2, 3, 4, 5, 6, 7, 2, 3]
    suma = " + ".join(f"mod({cuerpo} / {10**i}, 10) * {p}" for i, p in enumerate(pesos))
    # 11 - (suma mod 11), with 11 → '0' and 10 → 'K', indexed by suma mod 11.
    return f"substr('0K987654321', mod({suma}, 11)::int + 1, 1)"


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
      FROM (SELECT {norma} AS norma FROM pacientes_cliente c WHERE c.activo AND c.{campo} <> ''{extra}
             GROUP BY 1 HAVING count(*) > 1) k
      JOIN pacientes_cliente c ON c.activo AND c.{campo} <> ''{extra} AND {norma} = k.norma
     GROUP BY k.norma ORDER BY min(c.id) LIMIT %(limite)s
"""

# What the database itself guarantees on pacientes_cliente: a normal-form CHECK that is
# validated covers every row; a unique index that is valid forbids duplicates outright.
_CHECKS_FORMA = {"rut": "cliente_rut_normalizado", "email": "cliente_email_normalizado",
                 "telefono": "cliente_telefono_e164"}
_INDICES_UNICOS = {"rut": "cliente_rut_activo_unico", "email": "cliente_email_activo_unico",
                   "telefono": "cliente_telefono_activo_unico"}

_REVISAR = "Revise las fichas a mano (gestión de pacientes): fusione o desactive las repetidas."


def _garantias():
    """({field: normal form guaranteed}, {field: uniqueness among active patients guaranteed})."""
    resultado = filas(
        """SELECT conname AS nombre, convalidated AS vale FROM pg_constraint
            WHERE conrelid = 'pacientes_cliente'::regclass AND contype = 'c' AND conname = ANY(%(checks)s)
           UNION ALL
           SELECT i.relname, x.indisvalid AND x.indisunique FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = 'pacientes_cliente'::regclass AND i.relname = ANY(%(indices)s)""",
        {"checks": list(_CHECKS_FORMA.values()), "indices": list(_INDICES_UNICOS.values())},
    )
    vigentes = {f["nombre"] for f in resultado if f["vale"]}
    forma = {campo: nombre in vigentes for campo, nombre in _CHECKS_FORMA.items()}
    unico = {campo: forma[campo] and nombre in vigentes for campo, nombre in _INDICES_UNICOS.items()}
    return forma, unico


def _duplicados(campo, norma, limite, *, forma, unico):
    if unico:
        return 0, []  # the unique index on the normal form forbids them
    if forma:
        norma = "lower(c.email)" if campo == "email" else f"c.{campo}"  # stored in normal form already
    # Phones: only confirmed numbers are unique (issue 14); unconfirmed claims may repeat.
    extra = " AND c.telefono_verificado_en IS NOT NULL" if campo == "telefono" else ""
    resultado = filas(_DUPLICADOS.format(campo=campo, norma=norma, extra=extra), {"limite": limite})
    if not resultado:
        return 0, []
    # The count is of patients involved: each group of k duplicates is k rows to review.
    return int(resultado[0]["filas"]), [{"valor_normalizado": f["valor"], "clientes": f["clientes"]}
                                        for f in resultado]


@registrar("pacientes")
def pacientes_duplicados(*, limite):
    """Active patients sharing a RUT, an e-mail or a phone in normal form (one query each,
    none where a valid unique index on the normal form forbids them)."""
    forma, unico = _garantias()
    for campo, norma, descripcion in (
        ("rut", RUT_NORMAL_SQL, "Pacientes activos con el mismo RUT"),
        ("email", EMAIL_NORMAL_SQL, "Pacientes activos con el mismo correo"),
        ("telefono", TELEFONO_NORMAL_SQL, "Pacientes activos con el mismo teléfono confirmado"),
    ):
        cantidad, ejemplos = _duplicados(campo, norma, limite, forma=forma[campo], unico=unico[campo])
        yield Hallazgo(f"{campo}_duplicado", 1, descripcion, cantidad, ejemplos, _REVISAR)


@registrar("pacientes")
def datos_no_normalizados(*, limite):
    """Active patients whose RUT, e-mail or phone is not in normal form, or whose RUT has a
    wrong check digit. The check digit has no constraint; the shapes are skipped where a
    validated CHECK holds them."""
    forma, _ = _garantias()
    yield hallazgo_sql(
        "dato_no_normalizado", 1,
        "Pacientes activos con RUT, correo o teléfono fuera de su forma normal o con dígito verificador incorrecto",
        "Corrija el dato en la ficha del paciente.",
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
        limite=limite,
    )
