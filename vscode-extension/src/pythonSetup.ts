// The Python the server runs with, as the user sees it: which one was found and what it has,
// what to do when it cannot run the server (install it, choose another interpreter, open the
// setting), and the command that chooses one. Finding and probing are in ./interpreter.
import { execFile } from "node:child_process";
import * as vscode from "vscode";
import { folder, settings } from "./config";
import { log, openSetting, showErrorWithLog, showStatus } from "./feedback";
import { Interpreter, Probe, describeProbe, findInterpreter, pickInterpreter, probe } from "./interpreter";

/** What the server is started with. */
export interface ServerPython {
  python: string;
  cwd: string | undefined;
}

/** The interpreter to start the server with, when it has the server. When it has not, the
 * problem is shown with its fixes and the answer is undefined; ``start`` is called again once
 * "Install" has installed the server. */
export async function serverPython(start: () => Promise<void>): Promise<ServerPython | undefined> {
  const interpreter = await findInterpreter(settings().get<string>("pythonPath", ""), folder(), log);
  const python = interpreter.path;
  const cwd = folder()?.uri.fsPath;
  const found = await probe(python, cwd);
  log(`Python: ${python} (${interpreter.source}): ${describeProbe(found)}`);
  if (found.server) {
    return { python, cwd };
  }
  showStatus("$(error) dumpscript: no server", `dumpscript-lsp is not installed in ${python}`);
  await noServer(interpreter, found, cwd, start);
  return undefined;
}

/** Why ``interpreter`` cannot run the server, with the buttons of the fixes that fit. */
async function noServer(
  interpreter: Interpreter,
  found: Probe,
  cwd: string | undefined,
  start: () => Promise<void>,
): Promise<void> {
  const python = interpreter.path;
  let message: string;
  const actions: string[] = [];
  if (!found.runs) {
    message = `dumpscript: cannot run ${python} (${interpreter.source}): ${found.error}`;
  } else if (found.django) {
    message =
      `dumpscript: the language server (dumpscript-lsp) is not installed in ${python} (${interpreter.source}, ` +
      `Django ${found.django}).`;
    actions.push("Install");
  } else {
    message =
      `dumpscript: ${python} (${interpreter.source}) has neither Django nor dumpscript-lsp. Choose the ` +
      "interpreter of your Django project (its virtual environment) in dumpscript.pythonPath.";
  }
  const answer = await vscode.window.showErrorMessage(message, ...actions, "Select Interpreter", "Open Settings");
  if (answer === "Install") {
    await install(python, cwd, start);
  } else if (answer === "Select Interpreter") {
    await selectInterpreter();
  } else if (answer === "Open Settings") {
    await openSetting("dumpscript.pythonPath");
  }
}

/** Choose the interpreter: a workspace setting (another project keeps its own); the change
 * restarts the server. */
export async function selectInterpreter(): Promise<string | undefined> {
  const current = settings().get<string>("pythonPath", "").trim();
  const chosen = await pickInterpreter(current, folder(), log);
  if (chosen) {
    await settings().update("pythonPath", chosen, vscode.ConfigurationTarget.Workspace);
    log(`dumpscript.pythonPath (workspace) = ${chosen}`);
  }
  return chosen;
}

/** Install the server package into ``python`` with pip (asked first), then ``start``. */
async function install(python: string, cwd: string | undefined, start: () => Promise<void>): Promise<void> {
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
    () => run(python, ["-m", "pip", "install", spec], cwd),
  );
  log(result.output);
  if (result.ok) {
    void vscode.window.showInformationMessage(`dumpscript: installed ${spec}; starting the server.`);
    await start();
  } else {
    showErrorWithLog(`dumpscript: pip could not install ${spec}; see the log.`);
  }
}

function run(command: string, args: string[], cwd?: string): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: 600_000 }, (error, stdout, stderr) => {
      resolve({ ok: !error, output: `${stdout}${stderr}`.trim() || String(error ?? "") });
    });
  });
}
