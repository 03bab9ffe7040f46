// The signature pad of the consent's tablet page: pointer events (finger, pen or mouse) draw on
// a canvas whose logical box is the server's (data-ancho × data-alto), and every stroke is
// written as JSON ([[[x, y], …], …]) into the form's hidden "firma" field. No inline script or
// style (CSP); without JavaScript the pad stays hidden and the paper path still works.
(function () {
  "use strict";

  var MAX_PUNTOS = 2900; // the server refuses more than 3000

  function iniciar() {
    var panel = document.getElementById("panel-firma");
    var lienzo = document.getElementById("lienzo-firma");
    var campo = document.querySelector("input[name='firma']");
    if (!panel || !lienzo || !campo) {
      return;
    }
    var ancho = Number(panel.dataset.ancho);
    var alto = Number(panel.dataset.alto);
    var ctx = lienzo.getContext("2d");
    var trazos = [];
    var actual = null;
    var puntos = 0;
    var estado = document.getElementById("estado-firma");

    panel.classList.remove("d-none");
    document.querySelectorAll(".sin-js").forEach(function (el) { el.classList.add("d-none"); });

    function dibujar() {
      ctx.clearRect(0, 0, ancho, alto);
      ctx.strokeStyle = "#1a237e";
      ctx.lineWidth = 4;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      trazos.forEach(function (trazo) {
        ctx.beginPath();
        ctx.moveTo(trazo[0][0], trazo[0][1]);
        if (trazo.length === 1) {
          ctx.lineTo(trazo[0][0] + 0.5, trazo[0][1]);
        }
        for (var i = 1; i < trazo.length; i++) {
          ctx.lineTo(trazo[i][0], trazo[i][1]);
        }
        ctx.stroke();
      });
    }

    function guardar() {
      campo.value = trazos.length ? JSON.stringify(trazos) : "";
      if (estado) {
        estado.textContent = trazos.length ? "Firma registrada. Puede borrarla y firmar de nuevo." : "Firme dentro del recuadro.";
      }
    }

    function punto(evento) {
      var caja = lienzo.getBoundingClientRect();
      var x = Math.round((evento.clientX - caja.left) * ancho / caja.width);
      var y = Math.round((evento.clientY - caja.top) * alto / caja.height);
      return [Math.min(Math.max(x, 0), ancho), Math.min(Math.max(y, 0), alto)];
    }

    lienzo.addEventListener("pointerdown", function (evento) {
      if (puntos >= MAX_PUNTOS) {
        return;
      }
      evento.preventDefault();
      lienzo.setPointerCapture(evento.pointerId);
      actual = [punto(evento)];
      puntos += 1;
      trazos.push(actual);
      dibujar();
    });
    lienzo.addEventListener("pointermove", function (evento) {
      if (!actual || puntos >= MAX_PUNTOS) {
        return;
      }
      evento.preventDefault();
      var p = punto(evento);
      var ultimo = actual[actual.length - 1];
      if (Math.abs(p[0] - ultimo[0]) + Math.abs(p[1] - ultimo[1]) < 3) {
        return;
      }
      actual.push(p);
      puntos += 1;
      dibujar();
    });
    function terminar() {
      if (actual) {
        actual = null;
        guardar();
      }
    }
    lienzo.addEventListener("pointerup", terminar);
    lienzo.addEventListener("pointercancel", terminar);

    document.getElementById("borrar-firma").addEventListener("click", function () {
      trazos = [];
      puntos = 0;
      dibujar();
      guardar();
    });
    // A form sent back with an error keeps what was drawn.
    if (campo.value) {
      try {
        trazos = JSON.parse(campo.value) || [];
        trazos.forEach(function (t) { puntos += t.length; });
      } catch (e) {
        trazos = [];
      }
      dibujar();
      guardar();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", iniciar);
  } else {
    iniciar();
  }
})();
