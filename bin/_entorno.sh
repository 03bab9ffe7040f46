# Shared by bin/run and bin/test: find Python >= 3.12, create .venv, install the pinned
# dependencies when requirements.txt changed. Sourced, not executed.
set -euo pipefail

RAIZ="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$RAIZ"

python_apto() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

buscar_python() {
  local candidatos=()
  [ -n "${PYTHON:-}" ] && candidatos+=("$PYTHON")
  candidatos+=(python3.14 python3.13 python3.12 python3)
  # pyenv's shims only work with PYENV_VERSION set, so try its interpreters directly.
  local raiz_pyenv="${PYENV_ROOT:-$HOME/.pyenv}"
  for v in $(ls -d "$raiz_pyenv"/versions/3.1[2-9]* 2>/dev/null | sort -rV); do
    candidatos+=("$v/bin/python")
  done
  candidatos+=(/usr/local/bin/python3.13 /usr/local/bin/python3.12 /usr/bin/python3.13 /usr/bin/python3.12)
  for c in "${candidatos[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && python_apto "$c"; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! python_apto .venv/bin/python; then
  PY="$(buscar_python)" || {
    echo "No encontré Python 3.12 o superior. Instálelo o indique su ruta con PYTHON=/ruta/python3.12" >&2
    exit 1
  }
  echo "==> Creando entorno virtual con $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi

# Reinstall only when the lock changed, so a second run starts in a second.
SELLO=.venv/.requirements.sha256
HASH="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ "$(cat "$SELLO" 2>/dev/null)" != "$HASH" ]; then
  echo "==> Instalando dependencias fijadas (requirements.txt)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$HASH" > "$SELLO"
fi

export PATH="$RAIZ/.venv/bin:$PATH"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-clinica.settings}"
