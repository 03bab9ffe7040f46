"""Small helpers shared by the maintenance commands' text output."""


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
