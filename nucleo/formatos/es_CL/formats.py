# Chile's numbers (FORMAT_MODULE_PATH): decimal comma and a dot between thousands ("1.234,5").
# Django's "es" puts a non-breaking space between thousands; everything else comes from it.
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
