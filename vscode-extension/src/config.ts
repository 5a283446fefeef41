// The workspace dumpscript works in: its first folder and that folder's dumpscript settings.
import * as vscode from "vscode";

export function folder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

export function settings(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration("dumpscript", folder()?.uri);
}
