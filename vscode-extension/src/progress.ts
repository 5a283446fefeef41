// The server's progress reports (LSP work-done progress on a token the request carries) as VS
// Code notifications: each begin … end shows in the notification area, as the Python extension's
// long tasks do.
import * as vscode from "vscode";
import {
  LanguageClient,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressReport,
} from "vscode-languageclient/node";

/** One notification, from a begin to its end. */
interface Shown {
  ended: boolean;
  done: number;
  close?: () => void;
  report?: vscode.Progress<{ message?: string; increment?: number }>;
}

/** Open the notification of a begin. VS Code may call the task after the end has come (a quick
 * dry run): the notification then closes as soon as it opens. */
function open(title: string): Shown {
  const shown: Shown = { ended: false, done: 0 };
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `dumpscript: ${title}` },
    (progress) =>
      new Promise<void>((resolve) => {
        shown.close = resolve;
        shown.report = progress;
        if (shown.ended) {
          resolve();
        }
      }),
  );
  return shown;
}

/** Run ``request`` with a progress token whose reports the server sends (as ``progressToken``). */
export async function withProgress<T>(
  client: LanguageClient | undefined,
  request: (token: string) => Promise<T | undefined>,
): Promise<T | undefined> {
  const token = `dumpscript-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  let current: Shown | undefined;
  const end = () => {
    if (current) {
      current.ended = true;
      current.close?.();
      current = undefined;
    }
  };
  const subscription = client?.onProgress(WorkDoneProgress.type, token, (value) => {
    if (value.kind === "begin") {
      end();
      current = open((value as WorkDoneProgressBegin).title);
    } else if (value.kind === "report" && current) {
      const step = value as WorkDoneProgressReport;
      const percentage = step.percentage ?? current.done;
      current.report?.report({ message: step.message ?? "", increment: Math.max(0, percentage - current.done) });
      current.done = percentage;
    } else if (value.kind === "end") {
      end();
    }
  });
  try {
    return await request(token);
  } finally {
    end();
    subscription?.dispose();
  }
}
