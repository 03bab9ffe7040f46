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
