"""Countries that issue the identity documents of our patients (ISO 3166-1 alpha-2 codes).

A short curated list, not a full registry: neither django-countries nor pycountry is in this
project's dependencies, and phonenumbers / Python ship no country names in Spanish. The codes
are ISO 3166-1 alpha-2 (stable); add a country here when the clinic needs it (one line).
Ordered as reception looks them up: neighbours and the usual origins first, then A–Z.
"""

PAISES = (
    ("CL", "Chile"),
    ("AR", "Argentina"),
    ("PE", "Perú"),
    ("BO", "Bolivia"),
    ("VE", "Venezuela"),
    ("CO", "Colombia"),
    ("HT", "Haití"),
    ("EC", "Ecuador"),
    ("BR", "Brasil"),
    ("PY", "Paraguay"),
    ("UY", "Uruguay"),
    ("DO", "República Dominicana"),
    ("CU", "Cuba"),
    ("MX", "México"),
    ("US", "Estados Unidos"),
    ("CA", "Canadá"),
    ("ES", "España"),
    ("DE", "Alemania"),
    ("AU", "Australia"),
    ("CN", "China"),
    ("KR", "Corea del Sur"),
    ("CR", "Costa Rica"),
    ("FR", "Francia"),
    ("GB", "Reino Unido"),
    ("IL", "Israel"),
    ("IT", "Italia"),
    ("JP", "Japón"),
    ("NL", "Países Bajos"),
    ("NZ", "Nueva Zelanda"),
    ("PA", "Panamá"),
    ("PT", "Portugal"),
    ("CH", "Suiza"),
    ("SV", "El Salvador"),
    ("GT", "Guatemala"),
    ("HN", "Honduras"),
    ("NI", "Nicaragua"),
    ("IN", "India"),
    ("RU", "Rusia"),
    ("SE", "Suecia"),
    ("BE", "Bélgica"),
    ("AT", "Austria"),
    ("IE", "Irlanda"),
    ("PL", "Polonia"),
)

NOMBRES = dict(PAISES)
