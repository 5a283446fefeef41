// The project the server found (its settings module, its databases), as the server last said:
// shown in the status bar; when there is none, the setting that fixes it is offered once.
import * as vscode from "vscode";
import { openSetting, showStatus } from "./feedback";

export interface Database {
  alias: string;
  vendor: string;
  name: string;
}

export interface Status {
  ready: boolean;
  settingsModule: string | null;
  error: string | null;
  description: string;
  databases?: Database[];
}

let lastStatus: Status | undefined;
let toldNoProject = false;

/** The status the server sent last (undefined before its first). */
export function latestStatus(): Status | undefined {
  return lastStatus;
}

export function updateStatus(params: Status): void {
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
