// The commands that change the open script where the cursor or the selection is: insert a
// model's rows, fold the selected objects into a generator loop, grow the loop to N objects.
// The server makes the edit (a workspace edit it applies) and says what it did.
import * as vscode from "vscode";
import { serverCommand, serverCommandWithProgress } from "./client";
import { settings } from "./config";
import { log, reportFailure } from "./feedback";
import { askGrowCount, pickModels } from "./prompts";

interface Edited {
  error?: string;
  summary?: string;
}

/** The document and the cursor's line (1-based), as the server's edit commands take them. */
function atCursor(editor: vscode.TextEditor): { uri: string; line: number } {
  return { uri: editor.document.uri.toString(), line: editor.selection.active.line + 1 };
}

/** The outcome of an edit: its error, or its summary, in the log. */
function reportEdit(result: Edited | undefined): Edited | undefined {
  if (!reportFailure(result)) {
    log(result?.summary ?? "");
  }
  return result;
}

export async function dumpModelHere(label?: string): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage("dumpscript: open the script first.");
    return undefined;
  }
  const chosen = label ?? (await pickModels(false))?.[0];
  if (!chosen) {
    return undefined;
  }
  return reportEdit(
    await serverCommandWithProgress<Edited>("dumpscript.dumpModel", {
      ...atCursor(editor),
      label: chosen,
      limit: settings().get<number>("rowLimit", 1000),
    }),
  );
}

/** The selected lines; a selection that ends at the start of a line leaves that line out. */
export async function convertToLoop(): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return undefined;
  }
  const selection = editor.selection;
  let last = selection.end.line + 1;
  if (selection.end.line > selection.start.line && selection.end.character === 0) {
    last -= 1;
  }
  return reportEdit(
    await serverCommand<Edited>("dumpscript.foldLoop", {
      uri: editor.document.uri.toString(),
      first: selection.start.line + 1,
      last,
    }),
  );
}

export async function growLoop(count?: number): Promise<unknown> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    return undefined;
  }
  const wanted = count === undefined ? await askGrowCount(settings().get<number>("growTo", 1000)) : count;
  if (wanted === undefined) {
    return undefined;
  }
  return reportEdit(await serverCommand<Edited>("dumpscript.growLoop", { ...atCursor(editor), count: wanted }));
}
