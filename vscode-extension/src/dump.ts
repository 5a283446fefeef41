// The commands that write a new script: an app or a model (plain or anonymised), or a subset
// (some rows and what belongs to them, previewed first). The server writes the file.
import * as path from "node:path";
import * as vscode from "vscode";
import { serverCommand, serverCommandWithProgress } from "./client";
import { folder } from "./config";
import { log, reportFailure } from "./feedback";
import { askScriptPath, askSubsetFilter, pickModels } from "./prompts";

export interface DumpToFileArgs {
  labels?: string[];
  path?: string;
  anonymize?: boolean;
  filter?: string[] | string;
}

export async function dumpToFile(args?: DumpToFileArgs): Promise<unknown> {
  const labels = args?.labels ?? (await pickModels(true));
  if (!labels || labels.length === 0) {
    return undefined;
  }
  const root = folder()?.uri.fsPath ?? process.cwd();
  const absoluteOf = (name: string) => (path.isAbsolute(name) ? name : path.join(root, name));
  let target = args?.path;
  if (!target) {
    const suggested = `${labels[0].split(".")[0].toLowerCase()}${args?.anonymize ? "_anonymised" : ""}_data.py`;
    target = await askScriptPath(suggested, absoluteOf);
    if (target === undefined) {
      return undefined;
    }
  }
  const absolute = absoluteOf(target);
  // The server asks before it replaces a file that exists ("Replace" / "Cancel").
  const result = await serverCommandWithProgress<{ error?: string; path?: string; cancelled?: boolean }>(
    "dumpscript.dumpToFile",
    { labels, path: absolute, anonymize: args?.anonymize === true, filter: args?.filter },
  );
  if (result?.cancelled) {
    return result;
  }
  if (!reportFailure(result)) {
    log(`Dumped ${labels.join(", ")} to ${absolute}`);
  }
  return result;
}

/** A subset: a model, the rows (lookups), the server's preview of what belongs to them (a
 * modal with the tree), then the dump. */
export async function dumpSubset(): Promise<unknown> {
  const labels = await pickModels(false);
  if (!labels) {
    return undefined;
  }
  const filter = await askSubsetFilter(labels[0]);
  if (filter === undefined) {
    return undefined;
  }
  const preview = await serverCommand<{ error?: string; text?: string }>("dumpscript.previewSubset", {
    labels,
    filter,
  });
  if (reportFailure(preview)) {
    return preview;
  }
  log(preview?.text ?? "");
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
