"""django-axes' view of the username, bounded to its column.

Django's login forms do not enforce a maximum username length; axes writes the attempted name
into a 255-character column, so a longer one made every login page answer 500. A RUT or an
e-mail (the portal's logins) is counted in its normal form: typing the RUT another way must not
buy more attempts.
"""

from cuentas.autenticacion import identificador_normalizado

LARGO_MAXIMO = 255


def usuario_del_intento(request, credentials=None):
    if credentials:
        usuario = credentials.get("username")
    else:
        usuario = getattr(request, "data", request.POST).get("username")
    if usuario is None:
        return None
    usuario = str(usuario)[:LARGO_MAXIMO]
    return identificador_normalizado(usuario) or usuario
