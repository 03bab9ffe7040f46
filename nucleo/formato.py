"""Numbers as Chile writes them: "1.234", "10,5" (``FORMAT_MODULE_PATH``: ``nucleo.formatos``).

Thousands are grouped here, for quantities that people read (counters, sizes, totals), and not
with ``USE_THOUSAND_SEPARATOR``: that would also group every id a template prints into a link,
a form value or an ``id`` attribute ("1.234" is not a primary key).
"""

from django.utils import formats


def numero(valor, decimales=None) -> str:
    """``1234`` → "1.234"; ``10.5`` → "10,5" (``decimales`` fixes the decimal places)."""
    if valor is None or valor == "":
        return ""
    return formats.number_format(valor, decimal_pos=decimales, use_l10n=True, force_grouping=True)


def tamano_de_archivo(bytes_) -> str:
    """A file size people read: "850 bytes", "12,3 KB", "10,5 MB" (base 1024, one decimal)."""
    try:
        bytes_ = int(bytes_)
    except (TypeError, ValueError):
        return ""
    if bytes_ < 1024:
        return f"{numero(bytes_)} byte{'s' if bytes_ != 1 else ''}"
    for unidad in ("KB", "MB", "GB"):
        bytes_ /= 1024
        if bytes_ < 1024 or unidad == "GB":
            return f"{numero(round(bytes_, 1), 1 if bytes_ < 100 else 0)} {unidad}"
    raise AssertionError("unreachable")


def pesos(valor) -> str:
    """An amount of Chilean pesos as people read it: ``12500`` → "$12.500", ``-3000`` →
    "-$3.000". CLP has no cents: every amount of the clinic is an integer."""
    if valor is None or valor == "":
        return ""
    valor = int(valor)
    return f"{'-' if valor < 0 else ''}${numero(abs(valor))}"


def leer_pesos(texto, *, maximo: int, minimo: int = 0) -> int:
    """The integer amount a person typed ("12.500", "$ 12.500", "12500"), or ValueError with the
    Spanish message to show. Dots are thousands separators in Chile; a comma or anything else
    (cents, letters, an exponent) is refused rather than guessed."""
    limpio = str(texto if texto is not None else "").strip().replace("$", "").replace(" ", "").replace("\u00a0", "")
    if not limpio:
        raise ValueError("Indique el monto.")
    negativo = limpio.startswith("-")
    cifras = limpio.lstrip("+-")
    grupos = cifras.split(".")
    bien_agrupado = len(grupos) == 1 or (
        1 <= len(grupos[0]) <= 3 and all(len(g) == 3 for g in grupos[1:]))
    if not (cifras.replace(".", "").isascii() and cifras.replace(".", "").isdigit() and bien_agrupado) \
            or len(cifras) > 20:
        raise ValueError("Escriba el monto en pesos, sin decimales (por ejemplo 12.500).")
    monto = int(cifras.replace(".", "")) * (-1 if negativo else 1)
    if monto < minimo:
        raise ValueError("El monto no puede ser negativo." if minimo == 0 else f"El monto mínimo es {pesos(minimo)}.")
    if monto > maximo:
        raise ValueError(f"El monto no puede superar {pesos(maximo)}.")
    return monto


def leer_entero(valor, *, digitos: int = 9) -> int | None:
    """A whole number as a form or a service receives it (an int, or text of ASCII digits, at most
    ``digitos`` long), or None: never a bool, a sign, "²" (``str.isdigit`` says yes, ``int`` no)
    or a number too long to be meant."""
    if isinstance(valor, bool):
        return None
    if isinstance(valor, int):
        return valor
    texto = str(valor if valor is not None else "").strip()
    return int(texto) if texto.isascii() and texto.isdigit() and len(texto) <= digitos else None
