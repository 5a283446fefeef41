// What the user sees besides the editor: the log (the "Dumpscript" output channel), the status
// bar item, and the messages whose button opens the log or a setting.
import * as vscode from "vscode";

let output: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;

/** The log and the status bar item (a click shows the log); made once, on activation. */
export function createFeedback(): vscode.Disposable[] {
  output = vscode.window.createOutputChannel("Dumpscript");
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  statusItem.command = "dumpscript.editor.showLog";
  statusItem.show();
  return [output, statusItem];
}

/** The channel itself, for the language client, which writes its own lines there. */
export function outputChannel(): vscode.OutputChannel {
  return output;
}

export function log(line: string): void {
  output.appendLine(line);
}

/** Text as it comes (the server's stderr), no line end added. */
export function logText(text: string): void {
  output.append(text);
}

export function showLog(): void {
  output.show(true);
}

export function showStatus(text: string, tooltip: string): void {
  statusItem.text = text;
  statusItem.tooltip = tooltip;
}

/** An error whose details are in the log: the message, with a button that shows it. */
export function showErrorWithLog(message: string): void {
  void vscode.window.showErrorMessage(message, "Show Log").then((answer) => answer && showLog());
}

/** Open the Settings editor on one setting: the fix for most start-up problems. */
export function openSetting(name: string): Thenable<unknown> {
  return vscode.commands.executeCommand("workbench.action.openSettings", name);
}

/** Whether a command failed: its error is logged; no answer (no server) is a failure too. */
export function reportFailure(result: { error?: string } | undefined): boolean {
  if (result?.error) {
    log(`Error: ${result.error}`);
    return true;
  }
  return result === undefined;
}
