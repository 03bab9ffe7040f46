"""Test support, outside every production package (like pretix's ``testutils``): the real SMTP
server and worker fixtures, fault injection and database fingerprints (``soporte``), and a local
HTTP server that speaks the SMS/WhatsApp providers' real APIs (``proveedores``). Used by the
tests and the benchmarks; the layer contracts forbid production code to import it."""
