// What the commands ask: the app or model to dump, the rows of a subset, the file to write, the
// size of a grown loop, the database to load into. Each answer is undefined when cancelled.
import * as vscode from "vscode";
import { refreshStatus, serverCommand } from "./client";
import { latestStatus } from "./status";

interface ModelInfo {
  label: string;
  app: string;
  count: number | null;
}

interface TargetCheck {
  error?: string;
  exists?: boolean;
  lines?: number;
}

/** A quick pick of the project's models (and, with ``canPickApps``, its apps), with their row
 * counts: the label picked, as a list of one. */
export async function pickModels(canPickApps: boolean): Promise<string[] | undefined> {
  const listed = await serverCommand<{ ready: boolean; error?: string; models: ModelInfo[] }>(
    "dumpscript.listModels",
    { counts: true },
  );
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

/** The rows of a subset of ``label``: field lookups as one text (trimmed). The server splits it
 * where a comma starts a new lookup (pk__in=1,2 stays whole). */
export async function askSubsetFilter(label: string): Promise<string | undefined> {
  const typed = await vscode.window.showInputBox({
    title: `Which ${label} rows? (and what belongs to them)`,
    prompt: "Field lookups, comma-separated: pk=3, or customer__name__startswith=A, status=open",
    value: "pk=1",
  });
  return typed ? typed.trim() : undefined;
}

/** The file to write a script to (trimmed), ``suggested`` first. The server checks the name as
 * it is typed: a name that shadows a module is refused here, a file that exists is announced
 * (replacing it is asked after Enter). */
export async function askScriptPath(
  suggested: string,
  absoluteOf: (name: string) => string,
): Promise<string | undefined> {
  const name = await vscode.window.showInputBox({
    title: "Write the script to",
    value: suggested,
    prompt: "A file name in the workspace",
    validateInput: async (value) => {
      if (!value.trim()) {
        return "A file name";
      }
      const checked = await serverCommand<TargetCheck>(
        "dumpscript.checkTarget",
        { path: absoluteOf(value.trim()) },
        true,
      );
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
  return name ? name.trim() : undefined;
}

/** How many objects the loop at the cursor should grow to (``initial`` offered). */
export async function askGrowCount(initial: number): Promise<number | undefined> {
  const typed = await vscode.window.showInputBox({
    title: "Grow the loop at the cursor to how many objects?",
    prompt: "A loop over captured rows keeps them and makes up the rest (Faker)",
    value: String(initial),
    validateInput: (value) => (/^\d+$/.test(value.trim()) && Number(value) > 0 ? undefined : "A whole number"),
  });
  return typed ? Number(typed.trim()) : undefined;
}

/** The database to load into: one of the project's ``DATABASES`` (asked when it has several). */
export async function pickDatabase(): Promise<string | undefined> {
  const databases = (latestStatus() ?? (await refreshStatus()))?.databases ?? [];
  if (databases.length <= 1) {
    return databases[0]?.alias ?? "default";
  }
  const picked = await vscode.window.showQuickPick(
    databases.map((database) => ({ label: database.alias, description: `${database.vendor} · ${database.name}` })),
    { title: "Load into which database?", placeHolder: "The project's DATABASES" },
  );
  return picked?.label;
}
