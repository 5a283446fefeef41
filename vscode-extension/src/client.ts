// The language client's life: start the dumpscript-lsp server with the workspace's Python
// (once the workspace is trusted), restart it when it dies (not forever), stop it; and the one
// way to ask it something (a workspace/executeCommand request).
import { ChildProcess, spawn } from "node:child_process";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  ErrorHandler,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
} from "vscode-languageclient/node";
import { settings } from "./config";
import { log, logText, outputChannel, showErrorWithLog, showStatus } from "./feedback";
import { withProgress } from "./progress";
import { serverPython } from "./pythonSetup";
import { Status, updateStatus } from "./status";

let client: LanguageClient | undefined;
let serverProcess: ChildProcess | undefined;
let stopping = false;

export async function start(): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    showStatus("$(shield) dumpscript: off", "Untrusted workspace: dumpscript would run your project's code");
    log(
      "This workspace is not trusted: dumpscript's Django features are off, because they run the " +
        "project's code (settings, models, database). Trust the workspace to turn them on.",
    );
    return;
  }
  if (client) {
    return;
  }
  const found = await serverPython(start);
  if (!found) {
    return;
  }
  showStatus("$(sync~spin) dumpscript", "Starting the language server");
  client = new LanguageClient("dumpscript", "dumpscript", serverOptions(found.python, found.cwd), clientOptions());
  client.onDidChangeState((event) => {
    if (event.newState === State.Stopped && !stopping) {
      showStatus("$(error) dumpscript: stopped", "The language server stopped; see the log");
    } else if (event.newState === State.Running) {
      void refreshStatus();
    }
  });
  client.onNotification("dumpscript/status", (params: Status) => updateStatus(params));
  try {
    await client.start();
    log(`Started dumpscript-lsp with ${found.python}`);
  } catch (error) {
    log(`Cannot start the server: ${String(error)}`);
    showStatus("$(error) dumpscript", String(error));
  }
}

/** The server's process is started here (not by the client) so that its end is logged as what
 * it is: a stop asked for exits with code 0 and is no error. */
function serverOptions(python: string, cwd: string | undefined): ServerOptions {
  return async () => {
    const child = spawn(python, ["-m", "dumpscript_lsp", "--stdio"], { cwd });
    serverProcess = child;
    child.stderr.on("data", (chunk: Buffer) => logText(chunk.toString()));
    child.on("exit", (code, signal) => {
      if (code === 0) {
        log("The language server exited.");
      } else {
        log(`The language server exited with ${signal ? `signal ${signal}` : `code ${code}`}.`);
      }
    });
    return { reader: child.stdout, writer: child.stdin };
  };
}

/** Python files; the settings the server starts with. */
function clientOptions(): LanguageClientOptions {
  const config = settings();
  return {
    documentSelector: [{ scheme: "file", language: "python" }],
    outputChannel: outputChannel(),
    errorHandler: crashHandler(),
    initializationOptions: {
      settingsModule: config.get<string>("settingsModule", "") || undefined,
      managePy: config.get<string>("managePy", "") || undefined,
      rowLimit: config.get<number>("rowLimit", 1000),
      growTo: config.get<number>("growTo", 1000),
    },
  };
}

/** The server died: say so, point at the log, restart it (at most three times in three minutes). */
function crashHandler(): ErrorHandler {
  const crashes: number[] = [];
  return {
    error: () => ({ action: ErrorAction.Continue }),
    closed: () => {
      const now = Date.now();
      crashes.push(now);
      const recent = crashes.filter((time) => now - time < 180_000).length;
      const again = recent <= 3;
      log(`The language server stopped unexpectedly${again ? "; restarting it" : ""}.`);
      showErrorWithLog(
        `dumpscript: the language server stopped unexpectedly${again ? " and was restarted" : ""}. Its log says why.`,
      );
      return { action: again ? CloseAction.Restart : CloseAction.DoNotRestart, handled: true };
    },
  };
}

export async function stop(): Promise<void> {
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
    await waitForExit(process_);
  }
  client = undefined;
  serverProcess = undefined;
  stopping = false;
}

/** It exits once it has the exit notification; a server that does not (in 5 s) is stopped. */
async function waitForExit(process_: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    process_.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  if (process_.exitCode === null && process_.signalCode === null) {
    log("The language server did not exit when asked: stopping it.");
    process_.kill();
  }
}

export async function restart(): Promise<void> {
  await stop();
  await start();
}

/** Run the server's ``command`` with ``argument``; undefined when the server is not running
 * (said in a warning unless ``quiet``). */
export async function serverCommand<T>(command: string, argument?: object, quiet = false): Promise<T | undefined> {
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

/** ``serverCommand`` for a long task: ``argument`` gets a ``progressToken`` whose reports show
 * as notifications. */
export function serverCommandWithProgress<T>(command: string, argument: object): Promise<T | undefined> {
  return withProgress(client, (progressToken) => serverCommand<T>(command, { ...argument, progressToken }));
}

/** Ask the server for its status and show it. */
export async function refreshStatus(): Promise<Status | undefined> {
  const result = await serverCommand<Status>("dumpscript.status");
  if (result) {
    updateStatus(result);
  }
  return result;
}
