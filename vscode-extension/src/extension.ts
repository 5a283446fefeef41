// dumpscript for VS Code: starts the dumpscript-lsp server with the workspace's Python and
// puts its features in the palette. Thin on purpose: the logic lives in the server.
import { execFile } from "node:child_process";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";

interface Status {
  ready: boolean;
  settingsModule: string | null;
  error: string | null;
  description: string;
}

interface ModelInfo {
  label: string;
  app: string;
  count: number | null;
}

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;
let stopping = false;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("Dumpscript");
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  statusItem.command = "dumpscript.editor.showLog";
  statusItem.show();
  context.subscriptions.push(output, statusItem);

  const register = (name: string, handler: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(name, handler));
  register("dumpscript.editor.dumpToFile", (args?: unknown) => dumpToFile(args as DumpToFileArgs | undefined));
  register("dumpscript.editor.dumpModelHere", (label?: unknown) => dumpModelHere(label as string | undefined));
  register("dumpscript.editor.convertToLoop", () => convertToLoop());
  register("dumpscript.editor.loadScript", (args?: unknown) => loadScript(args as LoadArgs | undefined));
  register("dumpscript.editor.restartServer", () => restart());
  register("dumpscript.editor.showLog", () => output.show(true));
  register("dumpscript.editor.status", () => status());

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("dumpscript")) {
        output.appendLine("Settings changed: restarting the server");
        void restart();
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void start()),
    { dispose: () => void stop() },
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

// -- the server ------------------------------------------------------------------------------

function settings(): vscode.WorkspaceConfiguration {
  const folder = vscode.workspace.workspaceFolders?.[0];
  return vscode.workspace.getConfiguration("dumpscript", folder?.uri);
}

async function pythonPath(): Promise<string> {
  const configured = settings().get<string>("pythonPath", "").trim();
  if (configured) {
    return configured;
  }
  const python = vscode.extensions.getExtension("ms-python.python");
  if (python) {
    try {
      const api = python.isActive ? python.exports : await python.activate();
      const folder = vscode.workspace.workspaceFolders?.[0];
      const environment = api?.environments?.getActiveEnvironmentPath?.(folder?.uri);
      if (environment?.path) {
        return environment.path as string;
      }
    } catch (error) {
      output.appendLine(`The Python extension gave no interpreter: ${String(error)}`);
    }
  }
  return "python3";
}

function run(command: string, args: string[], cwd?: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: 600_000 }, (error, stdout, stderr) => {
      resolve({ ok: !error, output: `${stdout}${stderr}`.trim() || String(error ?? "") });
    });
  });
}

function showStatus(text: string, tooltip: string): void {
  statusItem.text = text;
  statusItem.tooltip = tooltip;
}

async function start(): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    showStatus("$(shield) dumpscript: off", "Untrusted workspace: dumpscript would run your project's code");
    output.appendLine(
      "This workspace is not trusted: dumpscript's Django features are off, because they run the " +
        "project's code (settings, models, database). Trust the workspace to turn them on.",
    );
    return;
  }
  if (client) {
    return;
  }
  const python = await pythonPath();
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const check = await run(python, ["-c", "import dumpscript_lsp"], folder);
  if (!check.ok) {
    showStatus("$(error) dumpscript: no server", `dumpscript-lsp is not installed in ${python}`);
    output.appendLine(`dumpscript-lsp is not importable with ${python}: ${check.output}`);
    const answer = await vscode.window.showErrorMessage(
      `dumpscript: the language server (dumpscript-lsp) is not installed in ${python}.`,
      "Install",
      "Show Log",
    );
    if (answer === "Install") {
      await install(python, folder);
    } else if (answer === "Show Log") {
      output.show(true);
    }
    return;
  }
  const config = settings();
  const serverOptions: ServerOptions = {
    command: python,
    args: ["-m", "dumpscript_lsp"],
    transport: TransportKind.stdio,
    options: { cwd: folder },
  };
  const crashes: number[] = [];
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "python" }],
    outputChannel: output,
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => {
        // The server died: say so, point at the log, restart it (not forever).
        const now = Date.now();
        crashes.push(now);
        const recent = crashes.filter((time) => now - time < 180_000).length;
        const again = recent <= 3;
        output.appendLine(`The language server stopped unexpectedly${again ? "; restarting it" : ""}.`);
        void vscode.window
          .showErrorMessage(
            `dumpscript: the language server stopped unexpectedly${again ? " and was restarted" : ""}. Its log says why.`,
            "Show Log",
          )
          .then((answer) => answer && output.show(true));
        return { action: again ? CloseAction.Restart : CloseAction.DoNotRestart, handled: true };
      },
    },
    initializationOptions: {
      settingsModule: config.get<string>("settingsModule", "") || undefined,
      managePy: config.get<string>("managePy", "") || undefined,
      rowLimit: config.get<number>("rowLimit", 1000),
    },
  };
  showStatus("$(sync~spin) dumpscript", "Starting the language server");
  client = new LanguageClient("dumpscript", "dumpscript", serverOptions, clientOptions);
  client.onDidChangeState((event) => {
    if (event.newState === State.Stopped && !stopping) {
      showStatus("$(error) dumpscript: stopped", "The language server stopped; see the log");
    } else if (event.newState === State.Running) {
      void status();
    }
  });
  client.onNotification("dumpscript/status", (params: Status) => updateStatus(params));
  try {
    await client.start();
    output.appendLine(`Started dumpscript-lsp with ${python}`);
  } catch (error) {
    output.appendLine(`Cannot start the server: ${String(error)}`);
    showStatus("$(error) dumpscript", String(error));
  }
}

function updateStatus(params: Status): void {
  if (params.ready) {
    showStatus(`$(database) ${params.settingsModule ?? "Django"}`, `dumpscript: ${params.description}`);
  } else {
    showStatus("$(warning) dumpscript: no project", `dumpscript: ${params.error ?? params.description}`);
  }
}

async function install(python: string, folder: string | undefined): Promise<void> {
  const spec = settings().get<string>("serverPackage", "dumpscript-lsp");
  const sure = await vscode.window.showWarningMessage(
    `Install ${spec} into ${python} with pip?`,
    { modal: true },
    "Install",
  );
  if (sure !== "Install") {
    return;
  }
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Installing ${spec}…` },
    () => run(python, ["-m", "pip", "install", spec], folder),
  );
  output.appendLine(result.output);
  if (result.ok) {
    void vscode.window.showInformationMessage(`dumpscript: installed ${spec}; starting the server.`);
    await start();
  } else {
    void vscode.window.showErrorMessage(`dumpscript: pip could not install ${spec}; see the log.`, "Show Log").then(
      (answer) => answer && output.show(true),
    );
  }
}

async function stop(): Promise<void> {
  if (!client) {
    return;
  }
  stopping = true;
  try {
    await client.stop();
  } catch {
    // already gone
  }
  client = undefined;
  stopping = false;
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function server<T>(command: string, argument?: object): Promise<T | undefined> {
  if (!client || client.state !== State.Running) {
    void vscode.window.showWarningMessage(
      vscode.workspace.isTrusted
        ? "dumpscript: the language server is not running (see Dumpscript: Show the Server Log)."
        : "dumpscript: this workspace is not trusted, so dumpscript does not run your project's code.",
    );
    return undefined;
  }
  return client.sendRequest<T>("workspace/executeCommand", {
    command,
    arguments: argument === undefined ? [] : [argument],
  });
}

async function status(): Promise<Status | undefined> {
  const result = await server<Status>("dumpscript.status");
  if (result) {
    updateStatus(result);
  }
  return result;
}

function reportFailure(result: { error?: string } | undefined): boolean {
  if (result?.error) {
    output.appendLine(`Error: ${result.error}`);
    return true;
  }
  return result === undefined;
}

// -- commands --------------------------------------------------------------------------------

async function pickModels(canPickApps: boolean): Promise<string[] | undefined> {
  const listed = await server<{ ready: boolean; error?: string; models: ModelInfo[] }>("dumpscript.listModels", {
    counts: true,
  });
  if (!listed) {
    return undefined;
  }
  if (!listed.ready) {
    void vscode.window.showErrorMessage(`dumpscript: ${listed.error ?? "no Django project"}`);
    return undefined;
  }
  const items: (vscode.QuickPickItem & { label: string })[] = [];
  const apps = [...new Set(listed.models.map((model) => model.app))];
  for (const app of apps) {
    if (canPickApps) {
      const total = listed.models.filter((m) => m.app === app).reduce((sum, m) => sum + (m.count ?? 0), 0);
      items.push({ label: app, description: `whole app, ${total} rows` });
    }
    for (const model of listed.models.filter((m) => m.app === app)) {
      items.push({ label: model.label, description: `${model.count ?? "?"} rows` });
    }
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: canPickApps ? "Dump which app or model?" : "Dump the rows of which model?",
    matchOnDescription: true,
  });
  return picked ? [picked.label] : undefined;
}

interface DumpToFileArgs {
  labels?: string[];
  path?: string;
}

async function dumpToFile(args?: DumpToFileArgs): Promise<unknown> {
  const labels = args?.labels ?? (await pickModels(true));
  if (!labels || labels.length === 0) {
    return undefined;
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  let target = args?.path;
  if (!target) {
    const suggested = `${labels[0].split(".")[0].toLowerCase()}_data.py`;
    const name = await vscode.window.showInputBox({
      title: "Write the script to",
      value: suggested,
      prompt: "A file name in the workspace (a name that shadows an app or module is refused)",
    });
    if (!name) {
      return undefined;
    }
    target = name;
  }
  const absolute = path.isAbsolute(target) ? target : path.join(folder, target);
  // The server asks before it replaces a file that exists ("Replace" / "Cancel").
  const result = await server<{ error?: string; path?: string; cancelled?: boolean }>("dumpscript.dumpToFile", {
    labels,
    path: absolute,
  });
  if (result?.cancelled) {
    return result;
  }
  if (!reportFailure(result)) {
    output.appendLine(`Dumped ${labels.join(", ")} to ${absolute}`);
  }
  return result;
}

async function dumpModelHere(label?: string): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage("dumpscript: open the script first.");
    return undefined;
  }
  const chosen = label ?? (await pickModels(false))?.[0];
  if (!chosen) {
    return undefined;
  }
  const result = await server<{ error?: string; summary?: string }>("dumpscript.dumpModel", {
    uri: editor.document.uri.toString(),
    line: editor.selection.active.line + 1,
    label: chosen,
    limit: settings().get<number>("rowLimit", 1000),
  });
  if (!reportFailure(result)) {
    output.appendLine(result?.summary ?? "");
  }
  return result;
}

async function convertToLoop(): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return undefined;
  }
  const selection = editor.selection;
  let last = selection.end.line + 1;
  if (selection.end.line > selection.start.line && selection.end.character === 0) {
    last -= 1;
  }
  const result = await server<{ error?: string; summary?: string }>("dumpscript.foldLoop", {
    uri: editor.document.uri.toString(),
    first: selection.start.line + 1,
    last,
  });
  if (!reportFailure(result)) {
    output.appendLine(result?.summary ?? "");
  }
  return result;
}

interface LoadArgs {
  confirmed?: boolean;
  database?: string;
}

interface LoadResult {
  error?: string;
  loaded?: boolean;
  cancelled?: boolean;
  created?: Record<string, number>;
}

function describeRows(created: Record<string, number> | undefined): string {
  const entries = Object.entries(created ?? {}).sort();
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  return `${total} rows (${entries.map(([label, count]) => `${label}: ${count}`).join(", ") || "none"})`;
}

// The server runs the flow (a dry run, its confirmation, the load); the editor saves the
// document first and reports the outcome.
async function loadScript(args?: LoadArgs): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return undefined;
  }
  const document = editor.document;
  if (document.isDirty) {
    await document.save();
  }
  const database = args?.database ?? "default";
  const name = path.basename(document.uri.fsPath);
  const result = await server<LoadResult>("dumpscript.loadScript", {
    uri: document.uri.toString(),
    database,
    confirmed: args?.confirmed === true,
  });
  if (reportFailure(result)) {
    output.show(true);
  } else if (result?.loaded) {
    output.appendLine(`Loaded ${name} into ${database}: created ${describeRows(result.created)}.`);
    output.show(true);
  } else {
    output.appendLine(`Not loaded: ${name} (it would create ${describeRows(result?.created)}).`);
  }
  return result;
}
