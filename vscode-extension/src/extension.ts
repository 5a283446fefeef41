// dumpscript for VS Code: starts the dumpscript-lsp server with the workspace's Python and
// puts its features in the palette. Thin on purpose: the logic lives in the server.
import { ChildProcess, execFile, spawn } from "node:child_process";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressReport,
} from "vscode-languageclient/node";
import { describeProbe, findInterpreter, pickInterpreter, probe } from "./interpreter";

interface Database {
  alias: string;
  vendor: string;
  name: string;
}

interface Status {
  ready: boolean;
  settingsModule: string | null;
  error: string | null;
  description: string;
  databases?: Database[];
}

interface ModelInfo {
  label: string;
  app: string;
  count: number | null;
}

let client: LanguageClient | undefined;
let serverProcess: ChildProcess | undefined;
let output: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;
let stopping = false;
let lastStatus: Status | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel("Dumpscript");
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  statusItem.command = "dumpscript.editor.showLog";
  statusItem.show();
  context.subscriptions.push(output, statusItem);

  const register = (name: string, handler: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(name, handler));
  register("dumpscript.editor.dumpToFile", (args?: unknown) => dumpToFile(args as DumpToFileArgs | undefined));
  register("dumpscript.editor.dumpToFileAnonymized", (args?: unknown) =>
    dumpToFile({ ...(args as DumpToFileArgs | undefined), anonymize: true }),
  );
  register("dumpscript.editor.dumpSubset", () => dumpSubset());
  register("dumpscript.editor.growLoop", (count?: unknown) => growLoop(count as number | undefined));
  register("dumpscript.editor.dumpModelHere", (label?: unknown) => dumpModelHere(label as string | undefined));
  register("dumpscript.editor.convertToLoop", () => convertToLoop());
  register("dumpscript.editor.loadScript", (args?: unknown) => loadScript(args as LoadArgs | undefined));
  register("dumpscript.editor.restartServer", () => restart());
  register("dumpscript.editor.selectInterpreter", () => selectInterpreter());
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

function folder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

/** Open the Settings editor on one setting: the fix for most start-up problems. */
function openSetting(name: string): Thenable<unknown> {
  return vscode.commands.executeCommand("workbench.action.openSettings", name);
}

async function selectInterpreter(): Promise<string | undefined> {
  const current = settings().get<string>("pythonPath", "").trim();
  const chosen = await pickInterpreter(current, folder(), (line) => output.appendLine(line));
  if (chosen) {
    // A workspace setting: another project keeps its own interpreter. The change restarts the server.
    await settings().update("pythonPath", chosen, vscode.ConfigurationTarget.Workspace);
    output.appendLine(`dumpscript.pythonPath (workspace) = ${chosen}`);
  }
  return chosen;
}

/** A start-up problem whose fix is an interpreter or a setting: say so, with the buttons. */
async function interpreterProblem(message: string, actions: string[], python: string, cwd?: string): Promise<void> {
  const answer = await vscode.window.showErrorMessage(message, ...actions, "Select Interpreter", "Open Settings");
  if (answer === "Install") {
    await install(python, cwd);
  } else if (answer === "Select Interpreter") {
    await selectInterpreter();
  } else if (answer === "Open Settings") {
    await openSetting("dumpscript.pythonPath");
  }
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
  const interpreter = await findInterpreter(settings().get<string>("pythonPath", ""), folder(), (line) =>
    output.appendLine(line),
  );
  const python = interpreter.path;
  const cwd = folder()?.uri.fsPath;
  const found = await probe(python, cwd);
  output.appendLine(`Python: ${python} (${interpreter.source}): ${describeProbe(found)}`);
  if (!found.server) {
    showStatus("$(error) dumpscript: no server", `dumpscript-lsp is not installed in ${python}`);
    if (!found.runs) {
      await interpreterProblem(`dumpscript: cannot run ${python} (${interpreter.source}): ${found.error}`, [], python);
    } else if (found.django) {
      await interpreterProblem(
        `dumpscript: the language server (dumpscript-lsp) is not installed in ${python} (${interpreter.source}, ` +
          `Django ${found.django}).`,
        ["Install"],
        python,
        cwd,
      );
    } else {
      await interpreterProblem(
        `dumpscript: ${python} (${interpreter.source}) has neither Django nor dumpscript-lsp. Choose the ` +
          "interpreter of your Django project (its virtual environment) in dumpscript.pythonPath.",
        [],
        python,
      );
    }
    return;
  }
  const config = settings();
  // The server's process is started here (not by the client) so that its end is logged as
  // what it is: a stop asked for exits with code 0 and is no error.
  const serverOptions: ServerOptions = async () => {
    const child = spawn(python, ["-m", "dumpscript_lsp", "--stdio"], { cwd });
    serverProcess = child;
    child.stderr.on("data", (chunk: Buffer) => output.append(chunk.toString()));
    child.on("exit", (code, signal) => {
      if (code === 0) {
        output.appendLine("The language server exited.");
      } else {
        output.appendLine(`The language server exited with ${signal ? `signal ${signal}` : `code ${code}`}.`);
      }
    });
    return { reader: child.stdout, writer: child.stdin };
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
      growTo: config.get<number>("growTo", 1000),
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

let toldNoProject = false;

function updateStatus(params: Status): void {
  lastStatus = params;
  if (params.ready) {
    showStatus(`$(database) ${params.settingsModule ?? "Django"}`, `dumpscript: ${params.description}`);
    return;
  }
  showStatus("$(warning) dumpscript: no project", `dumpscript: ${params.error ?? params.description}`);
  if (!toldNoProject) {
    // The server said why in a message; the fix is a setting: offer it once.
    toldNoProject = true;
    void vscode.window
      .showWarningMessage(
        `dumpscript: no Django project (${params.error ?? "not found"}). Convert to generator loop works; ` +
          "for the dumps and loads, set the settings module or manage.py.",
        "Open Settings",
      )
      .then((answer) => answer && openSetting("dumpscript.settingsModule"));
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
  const process_ = serverProcess;
  try {
    await client.stop(5000);
  } catch {
    // already gone
  }
  if (process_ && process_.exitCode === null && process_.signalCode === null) {
    // It exits once it has the exit notification; a server that does not is stopped.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      process_.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (process_.exitCode === null && process_.signalCode === null) {
      output.appendLine("The language server did not exit when asked: stopping it.");
      process_.kill();
    }
  }
  client = undefined;
  serverProcess = undefined;
  stopping = false;
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function server<T>(command: string, argument?: object, quiet = false): Promise<T | undefined> {
  if (!client || client.state !== State.Running) {
    if (quiet) {
      return undefined;
    }
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

/** Run ``request`` with a progress token whose reports the server sends (as ``progressToken``):
 * each begin … end shows in the notification area, as the Python extension's long tasks do. */
async function withProgress<T>(request: (token: string) => Promise<T | undefined>): Promise<T | undefined> {
  const token = `dumpscript-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  // One notification per begin … end. VS Code may call the task after the end has come (a
  // quick dry run): the notification then closes as soon as it opens.
  let current: { ended: boolean; done: number; close?: () => void; report?: vscode.Progress<{ message?: string; increment?: number }> } | undefined;
  const end = () => {
    if (current) {
      current.ended = true;
      current.close?.();
      current = undefined;
    }
  };
  const subscription = client?.onProgress(WorkDoneProgress.type, token, (value) => {
    if (value.kind === "begin") {
      end();
      const shown: NonNullable<typeof current> = { ended: false, done: 0 };
      current = shown;
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `dumpscript: ${(value as WorkDoneProgressBegin).title}` },
        (progress) =>
          new Promise<void>((resolve) => {
            shown.close = resolve;
            shown.report = progress;
            if (shown.ended) {
              resolve();
            }
          }),
      );
    } else if (value.kind === "report" && current) {
      const step = value as WorkDoneProgressReport;
      const percentage = step.percentage ?? current.done;
      current.report?.report({ message: step.message ?? "", increment: Math.max(0, percentage - current.done) });
      current.done = percentage;
    } else if (value.kind === "end") {
      end();
    }
  });
  try {
    return await request(token);
  } finally {
    end();
    subscription?.dispose();
  }
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
  anonymize?: boolean;
  filter?: string[] | string;
}

/** A subset: a model, the rows (lookups), the server's preview of what belongs to them (a
 * modal with the tree), then the dump. */
async function dumpSubset(): Promise<unknown> {
  const labels = await pickModels(false);
  if (!labels) {
    return undefined;
  }
  const typed = await vscode.window.showInputBox({
    title: `Which ${labels[0]} rows? (and what belongs to them)`,
    prompt: "Field lookups, comma-separated: pk=3, or customer__name__startswith=A, status=open",
    value: "pk=1",
  });
  if (!typed) {
    return undefined;
  }
  // One text: the server splits it where a comma starts a new lookup (pk__in=1,2 stays whole).
  const filter = typed.trim();
  const preview = await server<{ error?: string; text?: string }>("dumpscript.previewSubset", { labels, filter });
  if (reportFailure(preview)) {
    return preview;
  }
  output.appendLine(preview?.text ?? "");
  const answer = await vscode.window.showInformationMessage(
    `dumpscript: ${labels[0]} where ${filter}`,
    { modal: true, detail: preview?.text ?? "" },
    "Dump",
  );
  if (answer !== "Dump") {
    return { cancelled: true };
  }
  return dumpToFile({ labels, filter });
}

interface TargetCheck {
  error?: string;
  exists?: boolean;
  lines?: number;
}

async function dumpToFile(args?: DumpToFileArgs): Promise<unknown> {
  const labels = args?.labels ?? (await pickModels(true));
  if (!labels || labels.length === 0) {
    return undefined;
  }
  const root = folder()?.uri.fsPath ?? process.cwd();
  const absoluteOf = (name: string) => (path.isAbsolute(name) ? name : path.join(root, name));
  let target = args?.path;
  if (!target) {
    const suggested = `${labels[0].split(".")[0].toLowerCase()}${args?.anonymize ? "_anonymised" : ""}_data.py`;
    // The server checks the name as it is typed: a name that shadows a module is refused here,
    // a file that exists is announced (replacing it is asked after Enter).
    const name = await vscode.window.showInputBox({
      title: "Write the script to",
      value: suggested,
      prompt: "A file name in the workspace",
      validateInput: async (value) => {
        if (!value.trim()) {
          return "A file name";
        }
        const checked = await server<TargetCheck>("dumpscript.checkTarget", { path: absoluteOf(value.trim()) }, true);
        if (checked?.error) {
          return { message: checked.error, severity: vscode.InputBoxValidationSeverity.Error };
        }
        if (checked?.exists) {
          return {
            message: `${value.trim()} exists (${checked.lines ?? 0} lines): Enter asks before replacing it`,
            severity: vscode.InputBoxValidationSeverity.Warning,
          };
        }
        return undefined;
      },
    });
    if (!name) {
      return undefined;
    }
    target = name.trim();
  }
  const absolute = absoluteOf(target);
  // The server asks before it replaces a file that exists ("Replace" / "Cancel").
  const result = await withProgress((progressToken) =>
    server<{ error?: string; path?: string; cancelled?: boolean }>("dumpscript.dumpToFile", {
      labels,
      path: absolute,
      anonymize: args?.anonymize === true,
      filter: args?.filter,
      progressToken,
    }),
  );
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
  const result = await withProgress((progressToken) =>
    server<{ error?: string; summary?: string }>("dumpscript.dumpModel", {
      uri: editor.document.uri.toString(),
      line: editor.selection.active.line + 1,
      label: chosen,
      limit: settings().get<number>("rowLimit", 1000),
      progressToken,
    }),
  );
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

async function growLoop(count?: number): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return undefined;
  }
  let wanted = count;
  if (wanted === undefined) {
    const typed = await vscode.window.showInputBox({
      title: "Grow the loop at the cursor to how many objects?",
      prompt: "A loop over captured rows keeps them and makes up the rest (Faker)",
      value: String(settings().get<number>("growTo", 1000)),
      validateInput: (value) => (/^\d+$/.test(value.trim()) && Number(value) > 0 ? undefined : "A whole number"),
    });
    if (!typed) {
      return undefined;
    }
    wanted = Number(typed.trim());
  }
  const result = await server<{ error?: string; summary?: string }>("dumpscript.growLoop", {
    uri: editor.document.uri.toString(),
    line: editor.selection.active.line + 1,
    count: wanted,
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
  deleted?: Record<string, number>;
}

function describeRows(created: Record<string, number> | undefined): string {
  const entries = Object.entries(created ?? {}).sort();
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  return `${total} row${total === 1 ? "" : "s"} (${entries.map(([label, count]) => `${label}: ${count}`).join(", ") || "none"})`;
}

/** The database to load into: one of the project's ``DATABASES`` (asked when it has several). */
async function pickDatabase(): Promise<string | undefined> {
  const databases = (lastStatus ?? (await status()))?.databases ?? [];
  if (databases.length <= 1) {
    return databases[0]?.alias ?? "default";
  }
  const picked = await vscode.window.showQuickPick(
    databases.map((database) => ({ label: database.alias, description: `${database.vendor} · ${database.name}` })),
    { title: "Load into which database?", placeHolder: "The project's DATABASES" },
  );
  return picked?.label;
}

// The server runs the flow (a dry run, its confirmation, the load; on a conflict with rows in
// the database, the offer to replace them); the editor saves the document, picks the database
// and reports the outcome.
async function loadScript(args?: LoadArgs): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return undefined;
  }
  const document = editor.document;
  if (document.isDirty) {
    await document.save();
  }
  const database = args?.database ?? (await pickDatabase());
  if (!database) {
    return undefined;
  }
  const name = path.basename(document.uri.fsPath);
  const result = await withProgress((progressToken) =>
    server<LoadResult>("dumpscript.loadScript", {
      uri: document.uri.toString(),
      database,
      confirmed: args?.confirmed === true,
      progressToken,
    }),
  );
  if (reportFailure(result)) {
    output.show(true);
  } else if (result?.loaded) {
    const deleted = Object.keys(result.deleted ?? {}).length ? `deleted ${describeRows(result.deleted)}, ` : "";
    output.appendLine(`Loaded ${name} into ${database}: ${deleted}created ${describeRows(result.created)}.`);
    output.show(true);
  } else {
    output.appendLine(`Not loaded: ${name} (it would create ${describeRows(result?.created)}).`);
  }
  return result;
}
