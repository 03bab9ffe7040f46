"""Staff site views, one module per area: thin, they parse the request, call a selector or a
service, respond."""
