"""django-axes' view of the username, bounded to its column.

Django's login forms do not enforce a maximum username length; axes writes the attempted name
into a 255-character column, so a longer one made every login page answer 500.
"""

LARGO_MAXIMO = 255


def usuario_del_intento(request, credentials=None):
    if credentials:
        usuario = credentials.get("username")
    else:
        usuario = getattr(request, "data", request.POST).get("username")
    if usuario is None:
        return None
    return str(usuario)[:LARGO_MAXIMO]
