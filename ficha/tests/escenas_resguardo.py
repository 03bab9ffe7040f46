"""Scenes for retention, erasure under legal hold and the purge (imported by the tests that
use them: ficha, cuentas, mantenimiento, the sites' browser walks)."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from citas.models import Cancelacion, Cita, EstadoCita
from citas.services import asignar_cita, cancelar_cita, crear_cita_disponible
from citas.tests.test_services import registrar_paciente
from cuentas.models import CodigoTelefono, RegistroPendiente
from ficha.models import Antecedentes, Evolucion
from pacientes.documentos import subir_documento
from pacientes.models import Cliente, ClienteDocumento

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# The complaint the patient wrote when booking: free text that must not outlive the erasure.
MOTIVO = "Dolor punzante en la muela del juicio inferior izquierda"
MOTIVO_CANCELACION = "Mi hijo está enfermo y no puedo ir"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def archivos_en(media):
    if not media.exists():
        return set()
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}


def subir_pdf(actor, cliente, titulo="Radiografía panorámica"):
    return subir_documento(actor=actor, cliente_id=cliente.pk, titulo=titulo,
                           archivo=SimpleUploadedFile("rx.pdf", PDF, content_type="application/pdf"))


def nota(cliente, dentista, *, atendido_el, texto="Resina oclusal en 16.", corrige=None, firmada=True, cuando=None):
    """A progress note, signed unless ``firmada`` is False. ``cuando``: when it was written and
    signed (for records written long ago: the dates are set before the signature fixes them)."""
    evolucion = Evolucion.objects.create(cliente=cliente, dentista=dentista, atendido_el=atendido_el,
                                         procedimiento="Obturación", dientes=[16], texto=texto, corrige=corrige)
    cambios = {}
    if cuando is not None:
        cambios.update(creado=cuando, actualizado=cuando)
    if firmada:
        cambios["firmada_en"] = (cuando or timezone.now()) + datetime.timedelta(minutes=5)
    if cambios:
        Evolucion.objects.filter(pk=evolucion.pk).update(**cambios)
    evolucion.refresh_from_db()
    return evolucion


def cita_pasada(recepcionista, dentista, cliente, *, dias, motivo=MOTIVO, estado=EstadoCita.ATENDIDA):
    """An appointment given by reception ``dias`` days ago (booked then, as the agenda would);
    each patient's at its own hour of that day (the patient's id), so two never overlap."""
    inicio = timezone.now() + datetime.timedelta(hours=2)
    cita = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=inicio)
    asignar_cita(actor=recepcionista.user, cita_id=cita.pk, cliente_id=cliente.pk, motivo=motivo)
    antes = timezone.now() - datetime.timedelta(days=dias, hours=cliente.pk % 20)
    Cita.objects.filter(pk=cita.pk).update(estado=estado, inicio=antes, fin=antes + datetime.timedelta(minutes=30))
    cita.refresh_from_db()
    return cita


def con_ficha_completa(n, *, recepcionista, dentista, manana_10, media, motivo=MOTIVO,
                       motivo_cancelacion=MOTIVO_CANCELACION):
    """A portal patient with everything: WhatsApp consent and confirmed phone, an attended visit
    a month ago (with the complaint text), a future booking, a visit they cancelled with their
    own words, a medical history, a signed note and its addendum, a document, a phone code,
    a pending sign-up of their address and their notices."""
    user = registrar_paciente(n, acepta_whatsapp=True, canal_preferido="whatsapp")
    cliente = Cliente.objects.get(user=user)
    pasada = cita_pasada(recepcionista, dentista, cliente, dias=30, motivo=motivo)
    cancelada = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk,
                                      inicio=manana_10 + datetime.timedelta(days=2))
    asignar_cita(actor=recepcionista.user, cita_id=cancelada.pk, cliente_id=cliente.pk, motivo=motivo)
    cancelar_cita(actor=user, cita_id=cancelada.pk, motivo=motivo_cancelacion)
    futura = crear_cita_disponible(actor=recepcionista.user, dentista_id=dentista.pk, inicio=manana_10)
    asignar_cita(actor=recepcionista.user, cita_id=futura.pk, cliente_id=cliente.pk, motivo=motivo)
    Antecedentes.objects.update_or_create(cliente=cliente, defaults={"enfermedades": "Hipertensión arterial",
                                                                      "medicamentos": "Losartán 50 mg"})
    firmada = nota(cliente, dentista, atendido_el=timezone.localdate() - datetime.timedelta(days=30))
    adenda = nota(cliente, dentista, atendido_el=firmada.atendido_el, texto="Adenda: control en 6 meses.",
                  corrige=firmada)
    documento = subir_pdf(recepcionista.user, cliente)
    CodigoTelefono.objects.create(cliente=cliente, telefono=str(cliente.telefono), codigo_hash="0" * 64,
                                  expira_en=timezone.now() + datetime.timedelta(minutes=10))
    RegistroPendiente.objects.create(nombre_completo=cliente.nombre_completo, rut=cliente.rut, email=cliente.email,
                                     telefono=str(cliente.telefono), clave="x", nonce="n" * 32,
                                     vence=timezone.now() + datetime.timedelta(hours=48))
    return {"user": user, "cliente": cliente, "pasada": pasada, "futura": futura, "cancelada": cancelada,
            "firmada": firmada, "adenda": adenda, "documento": documento,
            "email": cliente.email, "telefono": str(cliente.telefono)}


def ficha_antigua(*, recepcionista, dentista, media, anos=16, nombre="Pedro Antiguo Rojas", rut="9876543-3"):
    """A walk-in patient last seen ``anos`` years ago: an attended visit, a medical history, a
    signed note with its addendum and a document, all of that time."""
    cliente = Cliente.objects.create(nombre_completo=nombre, rut=rut, email="pedro.antiguo@correo.example",
                                     fecha_nacimiento=datetime.date(1950, 5, 1))
    entonces = timezone.now() - datetime.timedelta(days=365 * anos + 10)
    cita = cita_pasada(recepcionista, dentista, cliente, dias=365 * anos + 10, motivo="Control")
    Antecedentes.objects.update_or_create(cliente=cliente, defaults={"enfermedades": "Diabetes tipo 2"})
    Antecedentes.objects.filter(cliente=cliente).update(creado=entonces, actualizado=entonces)
    firmada = nota(cliente, dentista, atendido_el=timezone.localdate(entonces), cuando=entonces,
                   texto="Exodoncia 38 sin complicaciones.")
    adenda = nota(cliente, dentista, atendido_el=timezone.localdate(entonces), cuando=entonces,
                  texto="Adenda: retiro de puntos.", corrige=firmada)
    documento = subir_pdf(recepcionista.user, cliente, titulo="Radiografía antigua")
    ClienteDocumento.objects.filter(pk=documento.pk).update(creado=entonces, actualizado=entonces)
    Cliente.objects.filter(pk=cliente.pk).update(creado=entonces)
    return {"cliente": cliente, "cita": cita, "firmada": firmada, "adenda": adenda, "documento": documento}


def columnas_de_texto_de_eventos() -> list[tuple[str, str]]:
    """(table, column) of every text-like column of every pghistory event table."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT c.table_name, c.column_name FROM information_schema.columns c
              JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
             WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name LIKE '%%event'
               AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
             ORDER BY 1, 2""")
        return cursor.fetchall()


def eventos_que_contienen(texto: str) -> list[tuple[str, str, int]]:
    """(table, column, rows) of every event column where ``texto`` appears (case-insensitive)."""
    encontrados = []
    with connection.cursor() as cursor:
        for tabla, columna in columnas_de_texto_de_eventos():
            cursor.execute(f'SELECT count(*) FROM "{tabla}" WHERE "{columna}"::text ILIKE %s', [f"%{texto}%"])
            n = cursor.fetchone()[0]
            if n:
                encontrados.append((tabla, columna, n))
    return encontrados


def cancelaciones_de(cliente_id):
    return Cancelacion.objects.filter(cliente_id=cliente_id)
