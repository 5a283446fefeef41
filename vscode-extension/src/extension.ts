// dumpscript for VS Code: starts the dumpscript-lsp server with the workspace's Python and
// puts its features in the palette. Thin on purpose: the logic lives in the server.
//
// Here: activation (the commands, the restart on a settings change, the start on trust).
// client.ts runs the server, pythonSetup.ts finds its Python; dump.ts, edit.ts and load.ts are
// the commands, prompts.ts what they ask; feedback.ts, status.ts and progress.ts what is shown.
import * as vscode from "vscode";
import { refreshStatus, restart, start, stop } from "./client";
import { DumpToFileArgs, dumpSubset, dumpToFile } from "./dump";
import { convertToLoop, dumpModelHere, growLoop } from "./edit";
import { createFeedback, log, showLog } from "./feedback";
import { LoadArgs, loadScript } from "./load";
import { selectInterpreter } from "./pythonSetup";

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(...createFeedback());

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
  register("dumpscript.editor.showLog", () => showLog());
  register("dumpscript.editor.status", () => refreshStatus());

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("dumpscript")) {
        log("Settings changed: restarting the server");
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
