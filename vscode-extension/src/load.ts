// The command that loads the open script into a database. The server runs the flow (a dry run,
// its confirmation, the load; on a conflict with rows in the database, the offer to replace
// them); the editor saves the document, picks the database and reports the outcome.
import * as path from "node:path";
import * as vscode from "vscode";
import { serverCommandWithProgress } from "./client";
import { log, reportFailure, showLog } from "./feedback";
import { pickDatabase } from "./prompts";

export interface LoadArgs {
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

/** "3 rows (polls.Author: 1, polls.Tag: 2)": the total, then each label (sorted) with its count. */
function describeRows(created: Record<string, number> | undefined): string {
  const entries = Object.entries(created ?? {}).sort();
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  return `${total} row${total === 1 ? "" : "s"} (${entries.map(([label, count]) => `${label}: ${count}`).join(", ") || "none"})`;
}

export async function loadScript(args?: LoadArgs): Promise<unknown> {
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
  const result = await serverCommandWithProgress<LoadResult>("dumpscript.loadScript", {
    uri: document.uri.toString(),
    database,
    confirmed: args?.confirmed === true,
  });
  if (reportFailure(result)) {
    showLog();
  } else if (result?.loaded) {
    const deleted = Object.keys(result.deleted ?? {}).length ? `deleted ${describeRows(result.deleted)}, ` : "";
    log(`Loaded ${name} into ${database}: ${deleted}created ${describeRows(result.created)}.`);
    showLog();
  } else {
    log(`Not loaded: ${name} (it would create ${describeRows(result?.created)}).`);
  }
  return result;
}
