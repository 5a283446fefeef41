// Which Python runs the language server: the setting, the Python extension's interpreter, a
// virtual environment in the workspace, or python3; what each one has; and a picker.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";

export interface Interpreter {
  path: string;
  /** How it was found, for messages: "the setting dumpscript.pythonPath", … */
  source: string;
}

export interface Probe {
  runs: boolean;
  django: string | null;
  server: boolean;
  version: string;
  error: string;
}

const PROBE = [
  "import importlib.util as u, json, sys",
  "d = None",
  "if u.find_spec('django'):",
  "    import django; d = django.get_version()",
  "print(json.dumps({'django': d, 'server': u.find_spec('dumpscript_lsp') is not None, 'version': sys.version.split()[0]}))",
].join("\n");

/** What ``python`` has: Django (its version) and the server. */
export function probe(python: string, cwd?: string): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(python, ["-c", PROBE], { cwd, timeout: 30_000 }, (error, stdout, stderr) => {
      const none = { runs: false, django: null, server: false, version: "" };
      if (error) {
        resolve({ ...none, error: `${stderr}`.trim().split("\n").pop() || error.message });
        return;
      }
      try {
        resolve({ runs: true, error: "", ...JSON.parse(stdout.trim().split("\n").pop() ?? "{}") });
      } catch {
        resolve({ ...none, error: `unexpected output: ${stdout.trim().slice(0, 200)}` });
      }
    });
  });
}

export function describeProbe(found: Probe): string {
  if (!found.runs) {
    return `does not run: ${found.error}`;
  }
  const django = found.django ? `Django ${found.django}` : "no Django";
  return `Python ${found.version} · ${django} · ${found.server ? "dumpscript-lsp installed" : "no dumpscript-lsp"}`;
}

const USUAL = [".venv", "venv", "env", ".env"];

/** The interpreters of the virtual environments in ``folder`` (a folder with ``pyvenv.cfg``),
 * the usual names (.venv, venv, env) first. */
export function workspaceEnvironments(folder: string | undefined): string[] {
  if (!folder) {
    return [];
  }
  let names: string[];
  try {
    names = fs
      .readdirSync(folder, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
  const rank = (name: string) => (USUAL.includes(name) ? USUAL.indexOf(name) : USUAL.length);
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const found: string[] = [];
  for (const name of names) {
    const home = path.join(folder, name);
    const python =
      process.platform === "win32" ? path.join(home, "Scripts", "python.exe") : path.join(home, "bin", "python");
    if (fs.existsSync(path.join(home, "pyvenv.cfg")) && fs.existsSync(python)) {
      found.push(python);
    }
  }
  return found;
}

/** The interpreter the Python extension selected for the folder, when it is installed. */
export async function pythonExtensionInterpreter(
  folder: vscode.Uri | undefined,
  log: (line: string) => void,
): Promise<string | undefined> {
  const python = vscode.extensions.getExtension("ms-python.python");
  if (!python) {
    return undefined;
  }
  try {
    const api = python.isActive ? python.exports : await python.activate();
    const environment = api?.environments?.getActiveEnvironmentPath?.(folder);
    return (environment?.path as string | undefined) || undefined;
  } catch (error) {
    log(`The Python extension gave no interpreter: ${String(error)}`);
    return undefined;
  }
}

/** The interpreter to run the server with, and how it was found. */
export async function findInterpreter(
  configured: string,
  folder: vscode.WorkspaceFolder | undefined,
  log: (line: string) => void,
): Promise<Interpreter> {
  if (configured.trim()) {
    return { path: configured.trim(), source: "the setting dumpscript.pythonPath" };
  }
  const selected = await pythonExtensionInterpreter(folder?.uri, log);
  if (selected) {
    return { path: selected, source: "the Python extension's interpreter" };
  }
  const [environment] = workspaceEnvironments(folder?.uri.fsPath);
  if (environment) {
    const name = path.relative(folder?.uri.fsPath ?? "", path.dirname(path.dirname(environment)));
    return { path: environment, source: `the workspace's virtual environment ${name}` };
  }
  return { path: "python3", source: "python3 on the PATH (no interpreter chosen)" };
}

/** A quick pick of the interpreters found (each with what it has), or a path typed in. */
export async function pickInterpreter(
  current: string,
  folder: vscode.WorkspaceFolder | undefined,
  log: (line: string) => void,
): Promise<string | undefined> {
  const root = folder?.uri.fsPath;
  const candidates = new Map<string, string>();
  for (const found of workspaceEnvironments(root)) {
    candidates.set(found, "virtual environment in the workspace");
  }
  const selected = await pythonExtensionInterpreter(folder?.uri, log);
  if (selected && !candidates.has(selected)) {
    candidates.set(selected, "selected in the Python extension");
  }
  if (current && !candidates.has(current)) {
    candidates.set(current, "the current setting");
  }
  if (!candidates.has("python3")) {
    candidates.set("python3", "python3 on the PATH");
  }
  const enter = "$(folder-opened) Enter the interpreter's path…";
  const items = vscode.window.createQuickPick();
  items.title = "Python interpreter for dumpscript (where your Django project and dumpscript-lsp are installed)";
  items.busy = true;
  items.items = [...candidates].map(([file, where]) => ({ label: label(file, root), detail: where }));
  items.show();
  const probes = await Promise.all([...candidates.keys()].map((file) => probe(file, root)));
  items.items = [
    ...[...candidates].map(([file, where], index) => ({
      label: label(file, root),
      description: describeProbe(probes[index]) + (file === current ? " · current" : ""),
      detail: where,
    })),
    { label: enter, alwaysShow: true },
  ];
  items.busy = false;
  const chosen = await new Promise<string | undefined>((resolve) => {
    items.onDidAccept(() => resolve(items.selectedItems[0]?.label));
    items.onDidHide(() => resolve(undefined));
  });
  items.dispose();
  if (chosen === undefined) {
    return undefined;
  }
  if (chosen === enter) {
    return vscode.window.showInputBox({
      title: "Path of the Python interpreter",
      prompt: "For example /home/me/project/.venv/bin/python",
      validateInput: (value) => (fs.existsSync(value.trim()) ? undefined : "No such file"),
    });
  }
  return [...candidates.keys()].find((file) => label(file, root) === chosen);
}

function label(file: string, root: string | undefined): string {
  return root && file.startsWith(root + path.sep) ? path.join(".", path.relative(root, file)) : file;
}
