// "Imprimir o guardar en PDF" on the readable copy of the patient's data (no inline handlers: CSP).
document.addEventListener("DOMContentLoaded", () => {
  const boton = document.getElementById("imprimir");
  if (boton) boton.addEventListener("click", () => window.print());
});
