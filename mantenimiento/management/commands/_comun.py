"""Small helpers shared by the maintenance commands: the options of a command that deletes
(``--dry-run``, ``--force``, ``--limite``), its confirmation, and its text output."""

from django.core.management.base import CommandError

RESPUESTAS_SI = {"s", "si", "sí"}


def opciones_de_borrado(parser, *, que: str, verbo: str) -> None:
    """``--dry-run``, ``--force`` and ``--limite`` (how many ``que`` to list) of a command that
    ``verbo``s rows after listing them."""
    parser.add_argument("--dry-run", action="store_true", help=f"solo listar, sin {verbo}")
    parser.add_argument("--force", action="store_true", help=f"{verbo} sin pedir confirmación")
    parser.add_argument("--limite", type=int, default=100, help=f"{que} a mostrar (0: todas); por defecto 100")


def validar_opciones_de_borrado(*, dry_run: bool, force: bool, limite: int, verbo: str) -> None:
    if dry_run and force:
        raise CommandError(f"Use --dry-run (solo listar) o --force ({verbo} sin preguntar), no los dos.")
    if limite < 0:
        raise CommandError("--limite debe ser 0 (todas) o un número positivo.")


def confirmar(stdout, pregunta: str) -> bool:
    """Ask ``pregunta`` on the terminal; only «s»/«si»/«sí» confirms (no input: no)."""
    stdout.write(f"{pregunta} Esta acción no se puede deshacer. Escriba «s» para confirmar: ", ending="")
    stdout.flush()
    try:
        respuesta = input()
    except EOFError:
        respuesta = ""
    return respuesta.strip().lower() in RESPUESTAS_SI


def mas(total: int, mostrados: int) -> str:
    """The line that says how many rows were not listed, or '' when all were."""
    faltan = total - mostrados
    if faltan <= 0:
        return ""
    return f"  ... y {faltan} más (use --limite 0 para verlos todos)"


def pares(fila: dict) -> str:
    """``{'user_id': 3, 'campos': ['email']}`` → ``user_id=3 campos=email``."""
    return " ".join(
        f"{clave}={','.join(str(v) for v in valor) if isinstance(valor, (list, tuple)) else valor}"
        for clave, valor in fila.items()
    )
