// End-to-end tests of the extension in a real VS Code (code-server 4.139 = VS Code 1.139),
// driven through Chromium with playwright-core, on a copy of the bundled example site.
// Needs: DUMPSCRIPT_PYTHON (a Python with Django, dumpscript and dumpscript-lsp), the .vsix
// (npm run package), .vscode-test/ (test/setup-vscode.sh) and Chromium (/usr/bin/chromium).
// Each step checks the files on disk; screenshots go to test/artifacts/.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const extension = path.resolve(here, "..");
const repo = path.resolve(extension, "..");
const tools = path.join(extension, ".vscode-test");
const codeServer = path.join(tools, "code-server", "node_modules", ".bin", "code-server");
const node24 = path.join(tools, "bin");
const artifacts = path.join(here, "artifacts");
const python = process.env.DUMPSCRIPT_PYTHON;
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

function check(condition, message) {
  if (!condition) {
    fail(message);
  }
  console.log(`ok - ${message}`);
}

for (const [what, where] of [
  ["DUMPSCRIPT_PYTHON", python],
  ["code-server (run test/setup-vscode.sh)", codeServer],
  ["Chromium", browserPath],
  ["dumpscript.vsix (npm run package)", path.join(extension, "dumpscript.vsix")],
]) {
  if (!where || !fs.existsSync(where)) {
    console.error(`Missing ${what}: ${where ?? "not set"}`);
    process.exit(2);
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "dumpscript-vscode-"));
const workspace = path.join(work, "site");
const userData = path.join(work, "user");
const extensionsDir = path.join(work, "extensions");
fs.mkdirSync(artifacts, { recursive: true });

function py(args, cwd = workspace) {
  return execFileSync(python, args, { cwd, encoding: "utf-8", env: { ...process.env, PYTHONPATH: "" } });
}

// -- the example site, migrated and filled -----------------------------------------------------
fs.mkdirSync(workspace);
for (const name of ["manage.py", "mysite", "polls"]) {
  fs.cpSync(path.join(repo, "example", name), path.join(workspace, name), {
    recursive: true,
    filter: (source) => !source.includes("__pycache__"),
  });
}
py(["manage.py", "migrate", "-v", "0"]);
py(["manage.py", "fill_sample_data"]);
// Scripts the tests open later (present from the start, so that Quick Open finds them).
const hand = path.join(workspace, "hand_data.py");
fs.writeFileSync(
  hand,
  [
    "from polls.models import Tag",
    "",
    "",
    "def run(using):",
    '    tag_1 = Tag(name="alpha")',
    '    tag_2 = Tag(name="beta")',
    '    tag_3 = Tag(name="gamma")',
    "    Tag.objects.using(using).bulk_create([tag_1, tag_2, tag_3])",
    "",
  ].join("\n"),
);
const loadable = path.join(workspace, "extra_data.py");
fs.writeFileSync(
  loadable,
  'from polls.models import Tag\n\n\ndef run(using):\n    Tag.objects.using(using).create(name="from vscode")\n',
);

// -- VS Code: settings, the extension, the server --------------------------------------------
fs.mkdirSync(path.join(userData, "User"), { recursive: true });
fs.writeFileSync(
  path.join(userData, "User", "settings.json"),
  JSON.stringify(
    {
      "dumpscript.pythonPath": python,
      "workbench.startupEditor": "none",
      "workbench.tips.enabled": false,
      "editor.minimap.enabled": false,
      "files.autoSave": "off",
      "telemetry.telemetryLevel": "off",
      "extensions.ignoreRecommendations": true,
      "workbench.enableExperiments": false,
      "chat.disableAIFeatures": true,
      "window.commandCenter": false,
    },
    null,
    2,
  ),
);
const env = { ...process.env, PATH: `${node24}${path.delimiter}${process.env.PATH}` };
execFileSync(
  codeServer,
  ["--user-data-dir", userData, "--extensions-dir", extensionsDir, "--install-extension", path.join(extension, "dumpscript.vsix")],
  { env, stdio: "inherit" },
);

const port = await new Promise((resolve) => {
  const probe = net.createServer();
  probe.listen(0, "127.0.0.1", () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(free));
  });
});
const vscodeProcess = spawn(
  codeServer,
  [
    "--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check",
    "--disable-workspace-trust", "--user-data-dir", userData, "--extensions-dir", extensionsDir, workspace,
  ],
  { env, stdio: ["ignore", "pipe", "pipe"] },
);
let serverLog = "";
vscodeProcess.stdout.on("data", (chunk) => (serverLog += chunk));
vscodeProcess.stderr.on("data", (chunk) => (serverLog += chunk));

async function healthy() {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) {
        return;
      }
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  fail(`code-server did not start:\n${serverLog}`);
}

const browser = await chromium.launch({
  executablePath: browserPath,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function shot(name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

async function palette(title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor();
  await sleep(300);
  await page.keyboard.press("Enter");
}

async function quickPick(text, row = text) {
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(text);
  if (row) {
    await page.locator(".quick-input-list .monaco-list-row", { hasText: row }).first().waitFor();
  }
  await sleep(500);
  await page.keyboard.press("Enter");
}

async function waitFor(predicate, what, timeout = 30000) {
  const start = Date.now();
  while (Date.now() - start < timeout) {
    if (predicate()) {
      return;
    }
    await sleep(250);
  }
  await shot(`failed-${what.replace(/\W+/g, "-")}`);
  fail(`timed out waiting for ${what}`);
}

async function goToLine(line) {
  await page.keyboard.press("Control+G");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible" });
  await input.fill(`:${line}`);
  await page.keyboard.press("Enter");
  await sleep(300);
}

async function save() {
  await page.keyboard.press("Control+S");
  await sleep(800);
}

function lineOf(file, text) {
  const lines = fs.readFileSync(file, "utf-8").split("\n");
  const index = lines.findIndex((line) => line.includes(text));
  if (index < 0) {
    fail(`${path.basename(file)} has no line with ${text}`);
  }
  return index + 1;
}

try {
  await healthy();
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
  // Opening a Python file activates the extension; the status bar shows the project found.
  fs.writeFileSync(path.join(workspace, "notes.py"), "# scratch\n");
  await page.keyboard.press("Control+P");
  await quickPick("notes.py");
  const status = page.locator(".statusbar-item", { hasText: "mysite.settings" });
  await status.waitFor({ timeout: 60000 });
  check(true, "the status bar shows the Django project (mysite.settings)");
  await shot("1-status-bar");

  // Palette: dump a model to a new script; the server writes it and VS Code opens it.
  const script = path.join(workspace, "poll_rows_data.py");
  await palette("Dumpscript: Dump App or Model to a New Script");
  await quickPick("polls.Poll");
  await quickPick("poll_rows_data.py", null);
  await waitFor(() => fs.existsSync(script), "poll_rows_data.py on disk");
  const dumped = fs.readFileSync(script, "utf-8");
  check(dumped.includes("poll_1 = Poll(") && dumped.includes("def run(using=DEFAULT_DB_ALIAS):"), "the palette dumped polls.Poll to poll_rows_data.py");
  await page.locator(".tab", { hasText: "poll_rows_data.py" }).waitFor();
  check(true, "VS Code opened the new script");
  await shot("2-dumped-to-file");

  // Palette: convert the run of Poll blocks under the cursor into a loop; save.
  await goToLine(lineOf(script, "poll_2 = Poll("));
  await palette("Dumpscript: Convert Selection to Generator Loop");
  await sleep(1500);
  await save();
  await waitFor(() => fs.readFileSync(script, "utf-8").includes(".append(Poll("), "the folded loop on disk");
  const folded = fs.readFileSync(script, "utf-8");
  check(/for i, \(question, author\) in enumerate\(\[/.test(folded) && !folded.includes("poll_2 = Poll("), "Convert Selection to Generator Loop folded the 3 polls");
  await shot("3-converted-to-loop");

  // Palette: dump the tags at the cursor (a quick pick of models); save.
  await goToLine(lineOf(script, "Poll.objects.using(using).bulk_create(polls") + 1);
  await palette("Dumpscript: Dump Model Rows Here");
  await quickPick("polls.Tag");
  await sleep(1500);
  await save();
  await waitFor(() => fs.readFileSync(script, "utf-8").includes("# polls.Tag"), "the tags inserted on disk");
  check(/Tag\(name="django"\)/.test(fs.readFileSync(script, "utf-8")), "Dump Model Rows Here inserted the tags");
  await shot("4-dumped-here");

  // The light bulb: a code action from the server, picked from the list; save.
  await page.keyboard.press("Control+P");
  await quickPick("hand_data.py");
  await page.locator(".tab", { hasText: "hand_data.py" }).waitFor();
  await goToLine(6);
  await sleep(1000);
  await page.keyboard.press("Control+.");
  const action = page.locator(".action-widget .monaco-list-row", { hasText: "Convert to generator loop (3 Tag blocks)" });
  await action.waitFor({ timeout: 30000 });
  await shot("5-code-action-menu");
  await action.click();
  await sleep(1500);
  await save();
  await waitFor(() => fs.readFileSync(hand, "utf-8").includes("for name in"), "the code action's loop on disk");
  check(fs.readFileSync(hand, "utf-8").includes("tags.append(Tag(name=name))"), "the light bulb's Convert to generator loop folded the tags");

  // Palette: load a script into the database, after a dry run and a confirmation.
  await page.keyboard.press("Control+P");
  await quickPick("extra_data.py");
  await page.locator(".tab", { hasText: "extra_data.py" }).waitFor();
  await palette("Dumpscript: Load This Script into the Database");
  const confirm = page.locator(".monaco-dialog-box");
  await confirm.waitFor({ timeout: 30000 });
  const question = await confirm.innerText();
  check(question.includes('Load extra_data.py into database "default"?') && question.includes("polls.Tag: 1"), "a confirmation shows the dry run's rows");
  await shot("6-load-confirmation");
  await confirm.locator(".monaco-button", { hasText: "Load" }).click();
  await waitFor(
    () =>
      py([
        "-c",
        "import os, sys; sys.path.insert(0, '.'); os.environ['DJANGO_SETTINGS_MODULE'] = 'mysite.settings'; " +
          "import django; django.setup(); from polls.models import Tag; " +
          "print('COUNT', Tag.objects.filter(name='from vscode').count())",
      ]).includes("COUNT 1"),
    "the loaded row in the database",
  );
  check(true, "Load This Script into the Database created the row");
  await page.locator(".output-view, .panel", { hasText: "Loaded extra_data.py" }).first().waitFor({ timeout: 30000 });
  check(true, "the output channel reports the load");
  await shot("7-loaded");
} catch (error) {
  await shot("error").catch(() => {});
  console.error(error);
  process.exitCode = 1;
} finally {
  await browser.close();
  vscodeProcess.kill();
  const logs = path.join(userData, "logs");
  if (process.exitCode && fs.existsSync(logs)) {
    console.error(`VS Code logs: ${logs}`);
  }
}
console.log(process.exitCode ? "vscode e2e: FAILED" : "vscode e2e: all passed");
