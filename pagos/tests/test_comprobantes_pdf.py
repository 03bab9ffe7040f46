"""The receipt PDF: what it must say, that nothing falls off the page, and its PNG under
/tmp/capturas-pagos/ to look at."""

import pytest

from pagos.comprobantes_pdf import comprobante_en_pdf
from pagos.selectors_caja import anulacion_de, pago_del_paciente
from pagos.services import abrir_caja, anular_pago, registrar_pago
from pagos.tests.escena import paciente, presupuesto
from personal.models import Rol
from pruebas.pdf import caracteres_fuera, leer_pdf, pdf_a_png

pytestmark = pytest.mark.django_db(transaction=True)
CAPTURAS = "/tmp/capturas-pagos"


def test_comprobante_de_pago_y_de_anulacion(crear_personal):
    dentista = crear_personal(rol=Rol.DENTISTA, username="dra.pdf")
    rosa = crear_personal(rol=Rol.RECEPCION, username="rosa.pdf", nombre="Rosa", apellido="Díaz").user
    ana = paciente(nombre="Ana María Pérez Núñez 😀", rut="12345678-5")
    quote = presupuesto(ana, dentista, rosa, precios=(30000,))
    abrir_caja(actor=rosa, monto_apertura=0)
    pago = registrar_pago(actor=rosa, cliente_id=ana.pk, monto=35000, medio="debito", referencia="VOUCHER 004521",
                          presupuesto_id=quote.pk)
    contenido = comprobante_en_pdf(pago_del_paciente(cliente_id=ana.pk, pago_id=pago.pk), generado_para="Rosa Díaz")
    leido = leer_pdf(contenido)
    assert leido.paginas == 1 and caracteres_fuera(contenido) == 0
    for frase in (f"Comprobante N° {pago.numero:06d}", "Ana María Pérez Núñez", "12.345.678-5", "$35.000",
                  "Tarjeta de débito", "VOUCHER 004521", f"Presupuesto N° {quote.numero}: $30.000",
                  "Saldo a favor: $5.000", "Rosa Díaz", "Este comprobante no es una boleta"):
        assert leido.contiene(frase), frase
    assert not leido.contiene("ANULADO")
    pdf_a_png(contenido, CAPTURAS, "comprobante-pago")

    anulacion = anular_pago(actor=rosa, pago_id=pago.pk, motivo="Se cobró con la tarjeta equivocada")
    original = pago_del_paciente(cliente_id=ana.pk, pago_id=pago.pk)
    contenido = comprobante_en_pdf(original, anulacion=anulacion_de(original), generado_para="Rosa Díaz")
    leido = leer_pdf(contenido)
    assert leido.contiene("ANULADO") and leido.contiene(f"N° {anulacion.numero:06d}")
    assert leido.contiene("Se cobró con la tarjeta equivocada") and caracteres_fuera(contenido) == 0
    pdf_a_png(contenido, CAPTURAS, "comprobante-anulado")

    contenido = comprobante_en_pdf(pago_del_paciente(cliente_id=ana.pk, pago_id=anulacion.pk), generado_para="Rosa")
    leido = leer_pdf(contenido)
    for frase in ("Comprobante de anulación", "-$35.000", f"Comprobante N° {pago.numero:06d}",
                  f"Presupuesto N° {quote.numero}: -$30.000", "Saldo a favor: -$5.000", "tarjeta equivocada"):
        assert leido.contiene(frase), frase
    pdf_a_png(contenido, CAPTURAS, "comprobante-de-anulacion")
