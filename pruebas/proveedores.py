"""A local HTTP server that speaks Twilio's Messages API and Meta's WhatsApp Cloud API.

For tests and the benchmark: our channels talk to it over real HTTP, exactly as they talk to
the providers (nothing of ours is mocked). It checks what the providers check (the path, the
credentials, the required fields), answers in their formats, records every request, and can
be told to misbehave::

    servidor = ServidorProveedores(); servidor.iniciar()
    servidor.programar(429, retry_after=2)   # next request: 429 with Retry-After
    servidor.programar(400, codigo=21211)    # then: Twilio's "invalid To number"
    servidor.programar(500, veces=3)         # then: three 500s
    servidor.colgar()                        # next requests hang until liberar() / detener()
    servidor.detener(); servidor.iniciar()   # an outage: connection refused, same port

Twilio: ``POST /2010-04-01/Accounts/{sid}/Messages.json``, HTTP Basic (sid:token), form
fields To, From or MessagingServiceSid, Body or ContentSid (+ ContentVariables); 201 with a
JSON ``{"sid": "SM…", …}``; errors as ``{"code", "message", "more_info", "status"}``.
Meta: ``POST /{version}/{phone_number_id}/messages``, ``Authorization: Bearer``, a JSON
template message; 200 with ``{"messages": [{"id": "wamid…"}]}``; errors as
``{"error": {"message", "type", "code", "fbtrace_id"}}``.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

TWILIO_SID = "AC" + "0" * 31 + "1"
TWILIO_TOKEN = "token-de-prueba-twilio"
TWILIO_SMS_FROM = "+15005550006"
TWILIO_WHATSAPP_FROM = "whatsapp:+14155238886"
META_TOKEN = "token-de-prueba-meta"
META_PHONE_ID = "109876543210"
META_VERSION = "v21.0"

_RUTA_TWILIO = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-f]{32})/Messages\.json$")
_RUTA_META = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<telefono_id>\d+)/messages$")

# Error bodies as the providers write them, by (provider, code).
_MENSAJES_TWILIO = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    21211: "The 'To' number {to} is not a valid phone number.",
    21604: "A 'To' phone number is required.",
    21602: "Message body is required.",
    21610: "Attempt to send to unsubscribed recipient",
    20500: "Internal Server Error",
}
_MENSAJES_META = {
    190: ("Invalid OAuth access token - Cannot parse access token", "OAuthException"),
    130429: ("(#130429) Rate limit hit", "OAuthException"),
    131026: ("(#131026) Message undeliverable", "OAuthException"),
    132001: ("(#132001) Template name does not exist in the translation", "OAuthException"),
    100: ("(#100) Invalid parameter", "OAuthException"),
    131000: ("(#131000) Something went wrong", "OAuthException"),
}


@dataclass
class Solicitud:
    """One request as the server received it, and what it answered."""

    proveedor: str  # "twilio", "meta" or "" (unknown path)
    metodo: str
    ruta: str
    cabeceras: dict
    crudo: bytes
    formulario: dict = field(default_factory=dict)  # Twilio: the form fields (one value each)
    json: dict | None = None  # Meta: the JSON body
    estado: int | None = None  # HTTP status answered; None while hung / never answered
    id_mensaje: str = ""  # the provider id returned with a 2xx

    @property
    def aceptada(self) -> bool:
        return self.estado is not None and 200 <= self.estado < 300

    @property
    def destinatario(self) -> str:
        if self.proveedor == "twilio":
            return self.formulario.get("To", "")
        return (self.json or {}).get("to", "")

    @property
    def contenido(self) -> str:
        """What makes one message distinct: the text or the template and its variables."""
        if self.proveedor == "twilio":
            f = self.formulario
            return f.get("Body") or f"{f.get('ContentSid')}|{f.get('ContentVariables')}"
        plantilla = (self.json or {}).get("template") or {}
        return json.dumps(plantilla, sort_keys=True, ensure_ascii=False)


@dataclass
class Respuesta:
    estado: int
    codigo: int | None = None
    retry_after: float | None = None


class _Manejador(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    servidor: ServidorProveedores  # set on the subclass made per server

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def setup(self):
        super().setup()
        self.servidor._conexiones.add(self.connection)

    def finish(self):
        self.servidor._conexiones.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_POST(self):
        largo = int(self.headers.get("Content-Length") or 0)
        crudo = self.rfile.read(largo) if largo else b""
        self.servidor._atender(self, crudo)

    def do_GET(self):
        self.servidor._atender(self, b"")

    def responder(self, estado, cuerpo: dict, cabeceras=None):
        datos = json.dumps(cuerpo).encode()
        try:
            self.send_response(estado)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(datos)))
            for nombre, valor in (cabeceras or {}).items():
                self.send_header(nombre, valor)
            self.end_headers()
            self.wfile.write(datos)
            self.wfile.flush()
            return True
        except OSError:  # the client went away (timed out, was killed)
            return False


class _Servidor(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class ServidorProveedores:
    """See the module docstring. ``solicitudes`` lists every request in arrival order."""

    def __init__(self, host: str = "127.0.0.1", puerto: int = 0):
        self.host = host
        if not puerto:
            with socket.socket() as s:
                s.bind((host, 0))
                puerto = s.getsockname()[1]
        self.puerto = puerto
        self.solicitudes: list[Solicitud] = []
        self.demora_s = 0.0
        self._programadas: list[Respuesta] = []
        self._cerrojo = threading.Lock()
        self._colgadas = 0
        self._liberar = threading.Event()
        self._servidor = None
        self._hilo = None
        self.recibida = threading.Event()  # set at each request (tests wait on it)
        self._conexiones: set = set()

    # Life cycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.puerto}"

    def iniciar(self) -> None:
        if self._servidor is not None:
            return
        manejador = type("Manejador", (_Manejador,), {"servidor": self})
        self._liberar.clear()
        self._servidor = _Servidor((self.host, self.puerto), manejador)
        self._hilo = threading.Thread(target=self._servidor.serve_forever, name="proveedores", daemon=True)
        self._hilo.start()

    def detener(self) -> None:
        """Close the port (clients get "connection refused"); hung requests are released."""
        if self._servidor is None:
            return
        servidor, self._servidor = self._servidor, None
        self._liberar.set()
        servidor.shutdown()
        servidor.server_close()
        # Keep-alive connections outlive the listening socket: cut them, or a client's pooled
        # connection would still reach a "stopped" provider.
        for conexion in list(self._conexiones):
            try:
                conexion.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._conexiones.clear()

    # Behaviour ------------------------------------------------------------------------------

    def programar(self, estado: int, *, codigo: int | None = None, retry_after: float | None = None,
                  veces: int = 1) -> None:
        """The next ``veces`` requests get this error instead of being accepted."""
        with self._cerrojo:
            self._programadas.extend(Respuesta(estado, codigo, retry_after) for _ in range(veces))

    def colgar(self, veces: int = 1) -> None:
        """The next ``veces`` requests are recorded and then left without an answer until
        ``liberar()`` or ``detener()`` (then they get a 201/200 the client may never read)."""
        with self._cerrojo:
            self._colgadas += veces
        self._liberar.clear()

    def liberar(self) -> None:
        self._liberar.set()

    def limpiar(self) -> None:
        with self._cerrojo:
            self.solicitudes.clear()
            self._programadas.clear()

    # Queries --------------------------------------------------------------------------------

    def aceptadas(self, proveedor: str | None = None) -> list[Solicitud]:
        with self._cerrojo:
            return [s for s in self.solicitudes if s.aceptada and proveedor in (None, s.proveedor)]

    def duplicadas(self) -> dict:
        """Messages (recipient + content) accepted more than once: must be empty."""
        vistas: dict = {}
        for s in self.aceptadas():
            clave = (s.proveedor, s.destinatario, s.contenido)
            vistas[clave] = vistas.get(clave, 0) + 1
        return {clave: n for clave, n in vistas.items() if n > 1}

    # Serving --------------------------------------------------------------------------------

    def _atender(self, manejador: _Manejador, crudo: bytes) -> None:
        ruta = manejador.path.split("?", 1)[0]
        solicitud = Solicitud(
            proveedor="", metodo=manejador.command, ruta=ruta, cabeceras=dict(manejador.headers.items()), crudo=crudo,
        )
        if _RUTA_TWILIO.match(ruta):
            solicitud.proveedor = "twilio"
            solicitud.formulario = {k: v[-1] for k, v in parse_qs(crudo.decode(), keep_blank_values=True).items()}
        elif _RUTA_META.match(ruta):
            solicitud.proveedor = "meta"
            try:
                solicitud.json = json.loads(crudo or b"null")
            except ValueError:
                solicitud.json = None
        with self._cerrojo:
            self.solicitudes.append(solicitud)
            programada = self._programadas.pop(0) if self._programadas else None
            colgar = self._colgadas > 0
            if colgar:
                self._colgadas -= 1
        self.recibida.set()
        if colgar:
            self._liberar.wait(timeout=120)
        elif self.demora_s:
            time.sleep(self.demora_s)
        if solicitud.proveedor == "twilio":
            estado, cuerpo, cabeceras = self._twilio(solicitud, programada)
        elif solicitud.proveedor == "meta":
            estado, cuerpo, cabeceras = self._meta(solicitud, programada)
        else:
            estado, cuerpo, cabeceras = 404, {"error": "ruta desconocida"}, {}
        if estado < 300:
            solicitud.id_mensaje = cuerpo.get("sid") or cuerpo["messages"][0]["id"]
        # Recorded as answered only if the answer reached the socket (a killed client's did not).
        if manejador.responder(estado, cuerpo, cabeceras) and not colgar:
            solicitud.estado = estado
        elif colgar:
            solicitud.estado = None

    @staticmethod
    def _cabeceras(programada):
        if programada is not None and programada.retry_after is not None:
            return {"Retry-After": str(int(programada.retry_after))}
        return {}

    def _twilio(self, solicitud: Solicitud, programada):
        sid = _RUTA_TWILIO.match(solicitud.ruta)["sid"]
        f = solicitud.formulario

        def error(estado, codigo):
            mensaje = _MENSAJES_TWILIO.get(codigo, "Error").format(to=f.get("To", ""))
            return estado, {
                "code": codigo, "message": mensaje, "status": estado,
                "more_info": f"https://www.twilio.com/docs/errors/{codigo}",
            }, self._cabeceras(programada)

        esperado = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if sid != TWILIO_SID or solicitud.cabeceras.get("Authorization") != esperado:
            return error(401, 20003)
        if programada is not None:
            return error(programada.estado, programada.codigo or {429: 20429}.get(programada.estado, 20500))
        if not f.get("To"):
            return error(400, 21604)
        if not (f.get("Body") or f.get("ContentSid")):
            return error(400, 21602)
        if not (f.get("From") or f.get("MessagingServiceSid")):
            return error(400, 21603)
        if f.get("ContentVariables"):
            json.loads(f["ContentVariables"])  # a 500 (and a failing test) if it is not JSON
        sid_mensaje = "SM" + uuid.uuid4().hex
        return 201, {
            "sid": sid_mensaje, "account_sid": sid, "to": f["To"], "from": f.get("From"),
            "messaging_service_sid": f.get("MessagingServiceSid"), "body": f.get("Body", ""),
            "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{sid}/Messages/{sid_mensaje}.json",
        }, {}

    def _meta(self, solicitud: Solicitud, programada):
        def error(estado, codigo):
            mensaje, tipo = _MENSAJES_META.get(codigo, ("Error", "OAuthException"))
            return estado, {
                "error": {"message": mensaje, "type": tipo, "code": codigo, "fbtrace_id": "A" + uuid.uuid4().hex[:20]}
            }, self._cabeceras(programada)

        ruta = _RUTA_META.match(solicitud.ruta)
        if solicitud.cabeceras.get("Authorization") != f"Bearer {META_TOKEN}":
            return error(401, 190)
        if ruta["telefono_id"] != META_PHONE_ID or ruta["version"] != META_VERSION:
            return error(400, 100)
        if programada is not None:
            return error(programada.estado, programada.codigo or {429: 130429}.get(programada.estado, 131000))
        datos = solicitud.json
        plantilla = (datos or {}).get("template") if isinstance(datos, dict) else None
        if (not isinstance(datos, dict) or datos.get("messaging_product") != "whatsapp" or not datos.get("to")
                or datos.get("type") != "template" or not isinstance(plantilla, dict) or not plantilla.get("name")
                or not (plantilla.get("language") or {}).get("code")):
            return error(400, 100)
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": datos["to"], "wa_id": datos["to"]}],
            "messages": [{"id": "wamid." + base64.b64encode(uuid.uuid4().bytes).decode().rstrip("=")}],
        }, {}


def entorno_twilio(servidor: ServidorProveedores, *, whatsapp: bool = True, sms: bool = True,
                   content_sids: dict | None = None) -> dict:
    """The settings (as environment variables or settings names) that point our Twilio
    channel at ``servidor``."""
    valores = {
        "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN, "TWILIO_API_BASE": servidor.url,
        "TWILIO_SMS_FROM": TWILIO_SMS_FROM, "TWILIO_WHATSAPP_FROM": TWILIO_WHATSAPP_FROM,
        "TWILIO_CONTENT_SIDS": json.dumps(content_sids if content_sids is not None else CONTENT_SIDS),
    }
    if sms:
        valores["NOTIFICACIONES_SMS"] = "twilio"
    if whatsapp:
        valores["NOTIFICACIONES_WHATSAPP"] = "twilio"
    return valores


def entorno_meta(servidor: ServidorProveedores) -> dict:
    return {
        "NOTIFICACIONES_WHATSAPP": "meta", "META_WA_TOKEN": META_TOKEN, "META_WA_PHONE_NUMBER_ID": META_PHONE_ID,
        "META_API_BASE": servidor.url, "META_API_VERSION": META_VERSION,
        "META_WA_PLANTILLAS": json.dumps(PLANTILLAS_META),
    }


# One approved template per event, as an operator would configure them.
EVENTOS_CON_PLANTILLA = (
    "invitacion", "bienvenida", "reserva_confirmada", "cita_asignada", "cita_cancelada_paciente",
    "cita_cancelada_clinica", "cita_reprogramada",
)
CONTENT_SIDS = {evento: "HX" + uuid.uuid5(uuid.NAMESPACE_URL, evento).hex for evento in EVENTOS_CON_PLANTILLA}
PLANTILLAS_META = {evento: f"clinica_{evento}" for evento in EVENTOS_CON_PLANTILLA}
