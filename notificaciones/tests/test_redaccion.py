"""Wording of every notice (issue 14: "reagendar.)." and the like): each declared event's
subject, e-mail, short text and WhatsApp values, rendered as a patient would get them, with
every value and with the optional ones missing, read for doubled punctuation, double spaces,
empty slots and leftovers of the template language."""

import re

import pytest
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from notificaciones.eventos import declarados
from notificaciones.services import _variables

COMPLETO = {
    "clinica": "Clínica Dental Sonrisa", "url_portal": "https://portal.clinica.example",
    "url_cita": "https://portal.clinica.example/portal/citas/58/", "nombre": "Ana Pérez",
    "fecha": "lunes 3 de marzo", "hora": "10:00", "dentista": "Camila Soto",
    "direccion": "Av. Providencia 1234, of. 501, Providencia",
    "fecha_anterior": "viernes 28 de febrero", "fecha_anterior_corta": "28/2", "hora_anterior": "09:30", "dentista_anterior": "Tomás Vidal",
    "telefono_clinica": "+56 2 2345 6789",
    # Typed by the staff with its own full stop: "(la dentista está con licencia.)." was the bug.
    "motivo_cancelacion": "la dentista está con licencia.",
    "plazo_cambios_h": 12, "confirmada": False,
    "enlace_confirmar": "https://portal.clinica.example/portal/r/abc/",
    "enlace_cancelar": "https://portal.clinica.example/portal/r/xyz/",
    "enlace": "https://portal.clinica.example/portal/activar/MQ/abc-123/", "dias_validez": 7,
    "correo_nuevo": "ana.nueva@correo.example", "horas_validez": 24,
    "enlace_deshacer": "https://portal.clinica.example/portal/cuenta/correo-deshacer/t/", "dias_deshacer": 7,
    "rol": "recepción", "username": "precepcion",
    "enlace_entrar": "https://portal.clinica.example/portal/entrar/",
    "enlace_recuperar": "https://portal.clinica.example/portal/recuperar/",
    "correo_clinica": "contacto@clinica.example", "celular_final": "4567",
    "codigo": "123456", "minutos": 10, "final_telefono": "4567",
}
# What may really be missing: a walk-in's name, a clinic without an address set, a cancellation
# without a reason, a reminder of a booking without a patient record (no one-tap links).
OPCIONALES = ("nombre", "dentista", "direccion", "motivo_cancelacion", "enlace_confirmar", "enlace_cancelar")
SIN_OPCIONALES = {**COMPLETO, **dict.fromkeys(OPCIONALES, "")}
# The clinic's reason arrives without its final stop (citas.mensajes.sin_punto_final).
COMPLETO_COMO_LO_DA_CITAS = {**COMPLETO, "motivo_cancelacion": "la dentista está con licencia"}

MALOS = ["..", ".).", ",.", ".,", "  ", " .", " ,", " :", "()", "None", "{{", "}}", "{%", "&amp;", "&#"]


def _textos(evento, contexto):
    """{format: text} of one event, as ``notificar`` stores them (subject on one line, bodies
    stripped, WhatsApp values one by one)."""
    textos = {}
    for formato in ("asunto", "email", "corto"):
        try:
            texto = render_to_string(f"notificaciones/{evento}/{formato}.txt", contexto)
        except TemplateDoesNotExist:
            continue
        textos[formato] = " ".join(texto.split()) if formato == "asunto" else texto.strip()
    for i, valor in enumerate(_variables(evento, contexto), start=1):
        textos[f"variable {i}"] = valor
    return textos


def _problemas(texto):
    lineas = texto.splitlines()
    problemas = [malo for malo in MALOS if any(malo in linea for linea in lineas)]
    problemas += [f"espacio al final: {linea!r}" for linea in lineas if linea != linea.rstrip()]
    problemas += ["tres saltos de línea"] if "\n\n\n" in texto else []
    # "Hola :", "con ," "en ." : a word left hanging before a missing value.
    problemas += re.findall(r"\b(?:con|en|al|del|de) [.,:;)]", texto)
    return problemas


@pytest.mark.parametrize("evento", sorted(declarados()))
@pytest.mark.parametrize("contexto", [COMPLETO_COMO_LO_DA_CITAS, SIN_OPCIONALES], ids=["completo", "sin_opcionales"])
def test_cada_aviso_se_lee_bien(evento, contexto):
    textos = _textos(evento, contexto)
    assert {"asunto", "email", "corto"} <= set(textos), evento
    for formato, texto in textos.items():
        if formato.startswith("variable") and not texto:
            continue  # an empty WhatsApp value keeps its position (a missing optional one)
        assert texto, (evento, formato)
        assert _problemas(texto) == [], (evento, formato, texto)
    assert textos["email"].startswith("Hola")


def test_el_motivo_de_la_clinica_no_duplica_su_punto():
    """What the bug was: the reason typed with a full stop inside "(…)." read "licencia.).";
    ``cancelar_cita`` hands it over without it (citas.mensajes.sin_punto_final)."""
    from citas.mensajes import sin_punto_final

    assert sin_punto_final("la dentista está con licencia. ") == "la dentista está con licencia"
    assert sin_punto_final("reagendar.).") == "reagendar.)"  # a closing bracket is the staff's own
    assert sin_punto_final(None) == ""
    corto = _textos("cita_cancelada_clinica", {**COMPLETO, "motivo_cancelacion": sin_punto_final("reagendar.")})["corto"]
    assert "(reagendar). Disculpe." in corto
