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
py(["manage.py", "migrate", "-v", "0", "--database", "fresh"]);
py(["manage.py", "fill_sample_data"]);
// The workspace's virtual environment, as `python -m venv .venv` leaves it (its python runs
// the test's Python, which has Django and the server).
fs.mkdirSync(path.join(workspace, ".venv", "bin"), { recursive: true });
fs.writeFileSync(path.join(workspace, ".venv", "pyvenv.cfg"), "home = /usr/bin\ninclude-system-site-packages = false\n");
const venvPython = path.join(workspace, ".venv", "bin", "python");
fs.writeFileSync(venvPython, `#!/bin/sh\nexec "${python}" "$@"\n`, { mode: 0o755 });
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
const people = path.join(workspace, "people_data.py");
fs.writeFileSync(
  people,
  [
    "from polls.models import Author",
    "",
    "",
    "def run(using):",
    '    author_1 = Author(name="Alan Turing", email="alan@example.org")',
    '    author_2 = Author(name="Barbara Liskov", email="barbara@example.org")',
    '    author_3 = Author(name="Donald Knuth", email="donald@example.org")',
    "    Author.objects.using(using).bulk_create([author_1, author_2, author_3])",
    "",
  ].join("\n"),
);
const loadable = path.join(workspace, "extra_data.py");
fs.writeFileSync(
  loadable,
  'from polls.models import Tag\n\n\ndef run(using):\n    Tag.objects.using(using).create(name="from vscode")\n',
);

// -- VS Code: settings, the extension, the server --------------------------------------------
const env = { ...process.env, PATH: `${node24}${path.delimiter}${process.env.PATH}` };
const baseSettings = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "editor.minimap.enabled": false,
  "files.autoSave": "off",
  "telemetry.telemetryLevel": "off",
  "extensions.ignoreRecommendations": true,
  "workbench.enableExperiments": false,
  "chat.disableAIFeatures": true,
  "window.commandCenter": false,
  "security.workspace.trust.startupPrompt": "never",
  "security.workspace.trust.banner": "never",
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const browser = await chromium.launch({
  executablePath: browserPath,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let page; // the page of the current VS Code
let userData;
const running = [];

async function freePort() {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
}

// A fresh VS Code (own user data and extensions) with the .vsix installed, on the workspace.
async function launch(name, { settings = {}, trusted = true, vsixes = [], extraEnv = {} } = {}) {
  userData = path.join(work, `user-${name}`);
  const extensionsDir = path.join(work, `extensions-${name}`);
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify({ ...baseSettings, "dumpscript.pythonPath": python, ...settings }, null, 2),
  );
  for (const vsix of [path.join(extension, "dumpscript.vsix"), ...vsixes]) {
    execFileSync(codeServer, ["--user-data-dir", userData, "--extensions-dir", extensionsDir, "--install-extension", vsix], {
      env,
      stdio: "ignore",
    });
  }
  const port = await freePort();
  const args = ["--bind-addr", `127.0.0.1:${port}`, "--auth", "none", "--disable-telemetry", "--disable-update-check"];
  if (trusted) {
    args.push("--disable-workspace-trust");
  }
  const vscodeProcess = spawn(codeServer, [...args, "--user-data-dir", userData, "--extensions-dir", extensionsDir, workspace], {
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(vscodeProcess);
  let log = "";
  vscodeProcess.stdout.on("data", (chunk) => (log += chunk));
  vscodeProcess.stderr.on("data", (chunk) => (log += chunk));
  let up = false;
  for (let attempt = 0; attempt < 120 && !up; attempt++) {
    try {
      up = (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    } catch {
      await sleep(500);
    }
  }
  if (!up) {
    fail(`code-server did not start:\n${log}`);
  }
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
  console.log(`# ${name}: VS Code ${trusted ? "" : "(untrusted workspace) "}is up`);
}

async function close() {
  await page?.close();
  for (const process_ of running.splice(0)) {
    process_.kill();
  }
}

function extensionLog() {
  // The extension's output channel, as VS Code writes it to disk.
  const logs = path.join(userData, "logs");
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.name.endsWith("Dumpscript.log")) {
        found.push(fs.readFileSync(full, "utf-8"));
      }
    }
  };
  if (fs.existsSync(logs)) {
    walk(logs);
  }
  return found.join("\n");
}

async function notification(text) {
  const toast = page.locator(".notification-toast", { hasText: text });
  await toast.first().waitFor({ timeout: 60000 });
  return toast.first();
}

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
  await sleep(300);
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
  await page.locator(".quick-input-list .monaco-list-row", { hasText: `line ${line}` }).first().waitFor();
  await sleep(300);
  await page.keyboard.press("Enter");
  await page.locator(".quick-input-widget").waitFor({ state: "hidden" });
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
  await launch("main");
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
  const action = page.locator(".action-widget .monaco-list-row", { hasText: "Convert to generator loop (3 Tag blocks)" }).first();
  await action.waitFor({ timeout: 30000 });
  await shot("5-code-action-menu");
  await action.click();
  await sleep(1500);
  await save();
  await waitFor(() => fs.readFileSync(hand, "utf-8").includes("for name in"), "the code action's loop on disk");
  check(fs.readFileSync(hand, "utf-8").includes("tags.append(Tag(name=name))"), "the light bulb's Convert to generator loop folded the tags");

  // The light bulb's fold-and-grow: the captured rows kept, the rest made up with Faker.
  await page.keyboard.press("Control+P");
  await quickPick("people_data.py");
  await page.locator(".tab", { hasText: "people_data.py" }).waitFor();
  await goToLine(6);
  await sleep(1000);
  await page.keyboard.press("Control+.");
  const grow = page.locator(".action-widget .monaco-list-row", { hasText: "and grow to 1,000 (made-up values)" });
  await grow.waitFor({ timeout: 30000 });
  await shot("19-grow-action");
  await grow.click();
  await sleep(2000);
  await save();
  await waitFor(() => fs.readFileSync(people, "utf-8").includes("for i in range(3, 1000):"), "the grown loop on disk");
  const grown = fs.readFileSync(people, "utf-8");
  check(grown.includes("fake.seed_instance(0)") && grown.includes('("Alan Turing", "alan@example.org")'), "the light bulb folded the authors and grew them to 1,000");
  await shot("20-grown");

  // An anonymised dump from the palette: no real name in it.
  const anonymous = path.join(workspace, "polls_anonymised_data.py");
  await palette("Dumpscript: Dump App or Model to a New Anonymised Script");
  await quickPick("polls.Author");
  await quickPick("polls_anonymised_data.py", null);
  await waitFor(() => fs.existsSync(anonymous), "the anonymised script on disk");
  const anonymised = fs.readFileSync(anonymous, "utf-8");
  check(anonymised.includes("Author(") && !anonymised.includes("Ada Lovelace") && !anonymised.includes("ada@example.com"), "the anonymised dump has no real name or e-mail");
  await notification("polls_anonymised_data.py (");
  await page.keyboard.press("Escape");
  await sleep(1000);

  // A subset: Ada and what belongs to her, previewed before the dump.
  const adaScript = path.join(workspace, "ada_data.py");
  await palette("Dumpscript: Dump Some Rows and What Belongs to Them to a New Script…");
  await quickPick("polls.Author");
  // a comma inside a lookup's value stays there (pk__in=1,2): the server splits the text
  await page.locator(".quick-input-widget input").fill("name__in=Ada Lovelace,Nobody");
  await sleep(300);
  await page.keyboard.press("Enter");
  const plan = page.locator(".monaco-dialog-box");
  await plan.waitFor({ timeout: 30000 });
  const planText = await plan.innerText();
  check(planText.includes("polls.Author.polls → polls.Poll: 2 rows") && planText.includes("polls.Poll.choices → polls.Choice: 6 rows"), "the subset's preview shows what belongs to the rows");
  await shot("21-subset-preview");
  await plan.locator(".monaco-button", { hasText: "Dump" }).first().click();
  await quickPick("ada_data.py", null);
  await waitFor(() => fs.existsSync(adaScript), "the subset's script on disk");
  const subset = fs.readFileSync(adaScript, "utf-8");
  check(subset.includes("Ada Lovelace") && subset.includes("Favourite database?") && !subset.includes("Tabs or"), "the subset holds Ada and her polls, not Grace's poll");
  await notification("ada_data.py (");
  await page.keyboard.press("Escape");
  await sleep(1000);

  // Dumping to a name that shadows a module: refused while the input box is still open.
  const handBefore = fs.readFileSync(hand, "utf-8");
  await palette("Dumpscript: Dump App or Model to a New Script");
  await quickPick("polls.Tag");
  const nameBox = page.locator(".quick-input-widget input");
  await nameBox.fill("polls.py");
  const refusal = page.locator(".quick-input-widget .quick-input-message", { hasText: "would shadow the installed app" });
  await refusal.waitFor({ timeout: 30000 });
  check(await nameBox.isVisible(), "a name that shadows an app is refused while the input box is open");
  await shot("12-shadowing-name");
  // A file that exists: the box says so, Enter asks before replacing it; Cancel keeps it.
  await nameBox.fill("hand_data.py");
  await page.locator(".quick-input-widget .quick-input-message", { hasText: "hand_data.py exists" }).waitFor({ timeout: 30000 });
  await sleep(300);
  await page.keyboard.press("Enter");
  let replace = page.locator(".notification-toast", { hasText: "Replace it with the dump?" });
  await replace.waitFor({ timeout: 30000 });
  check((await replace.innerText()).includes("hand_data.py exists"), "dumping to a file that exists asks before replacing it");
  await shot("13-replace-question");
  await replace.locator(".monaco-button", { hasText: "Cancel" }).first().click();
  await sleep(1500);
  check(fs.readFileSync(hand, "utf-8") === handBefore, "Cancel leaves the existing file as it was");
  await palette("Dumpscript: Dump App or Model to a New Script");
  await quickPick("polls.Tag");
  await page.locator(".quick-input-widget input").fill("hand_data.py");
  await sleep(800);
  await page.keyboard.press("Enter");
  replace = page.locator(".notification-toast", { hasText: "Replace it with the dump?" });
  await replace.waitFor({ timeout: 30000 });
  await replace.locator(".monaco-button", { hasText: "Replace" }).first().click();
  await waitFor(() => fs.readFileSync(hand, "utf-8").includes("written by dumpscript"), "the replaced file on disk");
  check(/Tag\(name="django"\)/.test(fs.readFileSync(hand, "utf-8")), "Replace writes the dump over the file");
  await notification("hand_data.py (");
  await page.keyboard.press("Escape");
  await sleep(1000); // the new script opens (showDocument) before the next Quick Open

  // Palette: load a script into the database, after a dry run and a confirmation.
  await page.keyboard.press("Control+P");
  await quickPick("extra_data.py");
  await page.locator(".tab", { hasText: "extra_data.py" }).waitFor();
  // The project has two databases (default, fresh): the load asks which one.
  const countIn = (alias) =>
    Number(
      py([
        "-c",
        "import os, sys; sys.path.insert(0, '.'); os.environ['DJANGO_SETTINGS_MODULE'] = 'mysite.settings'; " +
          "import django; django.setup(); from polls.models import Tag; " +
          `print('COUNT', Tag.objects.using('${alias}').filter(name='from vscode').count())`,
      ]).match(/COUNT (\d+)/)[1],
    );
  const loadInto = async (alias) => {
    await palette("Dumpscript: Load This Script into the Database");
    await page.locator(".quick-input-widget", { hasText: "Load into which database?" }).waitFor({ timeout: 30000 });
    await quickPick(alias);
  };
  await loadInto("default");
  // The server's confirmation (the only one), shown by VS Code as a notification with buttons.
  const confirm = page.locator(".notification-toast", { hasText: "load extra_data.py into database" });
  await confirm.waitFor({ timeout: 30000 });
  const question = await confirm.innerText();
  check(question.includes("load extra_data.py into database 'default'?") && question.includes("polls.Tag: 1"), "a confirmation shows the dry run's rows");
  await shot("6-load-confirmation");
  await confirm.locator(".monaco-button", { hasText: "Load" }).first().click();
  await waitFor(() => countIn("default") === 1, "the loaded row in the database");
  check(true, "Load This Script into the Database created the row");
  await page.locator(".output-view, .panel", { hasText: "Loaded extra_data.py" }).first().waitFor({ timeout: 30000 });
  check(true, "the output channel reports the load");
  await shot("7-loaded");
  // Loading it again: the tag's name is unique, so the rows conflict; the way out is replacing them.
  await loadInto("default");
  const conflict = page.locator(".notification-toast", { hasText: "Replace them?" });
  await conflict.waitFor({ timeout: 30000 });
  const offer = await conflict.innerText();
  check(offer.includes("'default' already has rows") && offer.includes("deletes"), "a conflict offers to replace the rows, saying how many go");
  await shot("14-conflict-replace");
  await conflict.locator(".monaco-button", { hasText: "Replace" }).first().click();
  await page.locator(".output-view, .panel", { hasText: "deleted" }).first().waitFor({ timeout: 30000 });
  check(countIn("default") === 1, "Replace deleted the old rows and loaded the script (one 'from vscode' tag)");
  // The other database of DATABASES.
  await loadInto("fresh");
  const confirmFresh = page.locator(".notification-toast", { hasText: "into database 'fresh'" });
  await confirmFresh.waitFor({ timeout: 30000 });
  await shot("15-load-into-fresh");
  await confirmFresh.locator(".monaco-button", { hasText: "Load" }).first().click();
  await waitFor(() => countIn("fresh") === 1, "the row in the database 'fresh'");
  check(true, "the load went into the database chosen from DATABASES");

  // Palette: restart the server, then show its log.
  const starts = () => (extensionLog().match(/Started dumpscript-lsp/g) ?? []).length;
  const before = starts();
  await palette("Dumpscript: Restart the Language Server");
  await waitFor(() => starts() > before, "a second server start in the log");
  check(true, "Restart the Language Server starts a new server");
  check(
    extensionLog().includes("The language server exited.") && !/\[Error\][^\n]*exited with code 0/.test(extensionLog()),
    "a restart logs the old server's exit as such, not as an error",
  );
  await page.keyboard.press("Control+J"); // hide the panel (the load step showed it)
  await page.locator(".panel").first().waitFor({ state: "hidden", timeout: 30000 });
  await palette("Dumpscript: Show the Server Log");
  await page.locator(".panel .monaco-select-box, .panel select", { hasText: "Dumpscript" }).first().waitFor({ timeout: 30000 });
  check(true, "Show the Server Log opens the Dumpscript output channel");

  // Changing a setting (in the Settings editor) restarts the server.
  await palette("Preferences: Open User Settings");
  const search = page.locator(".settings-editor .suggest-input-container .monaco-editor textarea, .settings-editor .search-container textarea");
  await search.first().waitFor({ timeout: 30000 });
  await sleep(800); // the search field has the focus
  await page.keyboard.type("dumpscript.rowLimit");
  await page.locator(".settings-editor .setting-item-contents", { hasText: "Row Limit" }).first().waitFor();
  const field = page.locator(".settings-editor .setting-item-contents", { hasText: "Row Limit" }).locator("input").first();
  await field.waitFor({ timeout: 30000 });
  await field.fill("5");
  await page.keyboard.press("Tab");
  await shot("8-settings");
  await waitFor(() => /Settings changed: restarting the server[\s\S]*Started dumpscript-lsp/.test(extensionLog()), "a restart after a settings change");
  check(true, "changing a dumpscript setting restarts the server");

  // A server that dies: a notification that points at the log, and a new server.
  // (this VS Code's server: the one that runs in the workspace folder)
  const servers = execFileSync("pgrep", ["-f", "dumpscript_lsp --stdio"], { encoding: "utf-8" })
    .split("\n")
    .filter((pid) => pid && fs.existsSync(`/proc/${pid}/cwd`) && fs.readlinkSync(`/proc/${pid}/cwd`) === workspace)
    .map(Number);
  check(servers.length === 1, "one server runs for this VS Code");
  process.kill(servers[0], "SIGKILL");
  const died = await notification("the language server stopped unexpectedly");
  check((await died.innerText()).includes("Show Log"), "a dead server shows a notification with Show Log");
  await waitFor(() => /stopped unexpectedly[\s\S]*Django project mysite.settings/.test(extensionLog()), "the restarted server");
  check(true, "the server was restarted");
  await shot("9-server-died");
  await close();

  // An interpreter with Django but without the server: Install (after asking), Select
  // Interpreter or Open Settings. (A stand-in Django on the PYTHONPATH of a bare Python.)
  const bare = path.join(tools, "node24", "bin", "python");
  const fakeDjango = path.join(work, "fake-django");
  fs.mkdirSync(path.join(fakeDjango, "django"), { recursive: true });
  fs.writeFileSync(path.join(fakeDjango, "django", "__init__.py"), "def get_version():\n    return '5.2'\n");
  const djangoOnly = path.join(work, "django-only-python");
  fs.writeFileSync(djangoOnly, `#!/bin/sh\nPYTHONPATH="${fakeDjango}" exec "${bare}" "$@"\n`, { mode: 0o755 });
  await launch("missing", { settings: { "dumpscript.pythonPath": djangoOnly } });
  await page.keyboard.press("Control+P");
  await quickPick("notes.py");
  const missing = await notification("is not installed in");
  const missingText = await missing.innerText();
  check(
    ["Install", "Select Interpreter", "Open Settings"].every((button) => missingText.includes(button)) &&
      missingText.includes("Django 5.2"),
    "a missing server (Django there) offers Install, Select Interpreter and Open Settings",
  );
  await missing.locator(".monaco-button", { hasText: "Install" }).click();
  const ask = page.locator(".monaco-dialog-box");
  await ask.waitFor({ timeout: 30000 });
  check((await ask.innerText()).includes(`Install dumpscript-lsp into ${djangoOnly} with pip?`), "Install asks before running pip");
  await shot("10-install-prompt");
  await ask.locator(".monaco-button", { hasText: "Cancel" }).click();
  await close();

  // An interpreter without Django (the system's python3, say): no Install into it; the way out is
  // choosing the project's interpreter, and the picker finds the workspace's .venv.
  await launch("no-django", { settings: { "dumpscript.pythonPath": bare } });
  await page.keyboard.press("Control+P");
  await quickPick("notes.py");
  const noDjango = await notification("has neither Django nor dumpscript-lsp");
  const noDjangoText = await noDjango.innerText();
  check(
    !noDjangoText.includes("Install") && noDjangoText.includes("Select Interpreter") && noDjangoText.includes("Open Settings"),
    "an interpreter without Django: Select Interpreter and Open Settings, no Install",
  );
  await shot("16-no-django");
  await noDjango.locator(".monaco-button", { hasText: "Open Settings" }).click();
  await page.locator(".settings-editor .setting-item-contents", { hasText: "Python Path" }).first().waitFor({ timeout: 30000 });
  check(true, "Open Settings opens the Settings editor on dumpscript.pythonPath");
  await shot("17-open-settings");
  await page.keyboard.press("Escape"); // the Settings editor opens as a modal in VS Code 1.139
  await page.locator(".monaco-modal-editor-block").first().waitFor({ state: "hidden", timeout: 10000 }).catch(async () => {
    await page.locator(".monaco-modal-editor-block .codicon-close, .monaco-modal-editor-block [aria-label*='Close']").first().click();
  });
  await sleep(500);
  await palette("Dumpscript: Select the Python Interpreter");
  const venvRow = page.locator(".quick-input-list .monaco-list-row", { hasText: ".venv/bin/python" });
  await venvRow.first().waitFor({ timeout: 30000 });
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "dumpscript-lsp installed" }).first().waitFor({ timeout: 30000 });
  check((await venvRow.first().innerText()).includes("virtual environment in the workspace"), "the picker lists the workspace's .venv, with what it has");
  await shot("18-select-interpreter");
  await venvRow.first().click();
  const workspaceSettings = path.join(workspace, ".vscode", "settings.json");
  await waitFor(() => fs.existsSync(workspaceSettings) && fs.readFileSync(workspaceSettings, "utf-8").includes(".venv/bin/python"), "the workspace setting");
  await page.locator(".statusbar-item", { hasText: "mysite.settings" }).waitFor({ timeout: 60000 });
  check(extensionLog().includes(`Started dumpscript-lsp with ${venvPython}`), "the chosen interpreter runs the server (a workspace setting)");
  await close();
  fs.rmSync(path.join(workspace, ".vscode"), { recursive: true, force: true });

  // No setting and no Python extension: the workspace's .venv runs the server.
  await launch("venv", { settings: { "dumpscript.pythonPath": "" } });
  await page.keyboard.press("Control+P");
  await quickPick("notes.py");
  await page.locator(".statusbar-item", { hasText: "mysite.settings" }).waitFor({ timeout: 60000 });
  check(
    extensionLog().includes(`Started dumpscript-lsp with ${venvPython}`) && extensionLog().includes("the workspace's virtual environment .venv"),
    "without a setting or the Python extension, the workspace's .venv runs the server",
  );
  await close();

  // No dumpscript.pythonPath: the interpreter the Python extension selected for the workspace
  // (a stand-in extension with the Python extension's id and environments API says which).
  const fakePython = path.join(work, "fake-python.vsix");
  execFileSync(
    path.join(extension, "node_modules", ".bin", "vsce"),
    ["package", "--allow-missing-repository", "--skip-license", "-o", fakePython],
    { cwd: path.join(here, "fake-python"), stdio: "ignore" },
  );
  await launch("python-extension", {
    settings: { "dumpscript.pythonPath": "" },
    vsixes: [fakePython],
    extraEnv: { DUMPSCRIPT_TEST_PYTHON: python },
  });
  await page.keyboard.press("Control+P");
  await quickPick("notes.py");
  await page.locator(".statusbar-item", { hasText: "mysite.settings" }).waitFor({ timeout: 60000 });
  check(extensionLog().includes(`Started dumpscript-lsp with ${python}`), "without a setting, the Python extension's interpreter runs the server");
  await close();

  // An untrusted workspace: nothing runs, and the extension says why.
  await launch("untrusted", { trusted: false, settings: { "security.workspace.trust.enabled": true } });
  await page.keyboard.press("Control+P");
  await quickPick("notes.py");
  await page.locator(".statusbar-item", { hasText: "dumpscript: off" }).waitFor({ timeout: 60000 });
  await palette("Dumpscript: Dump Model Rows Here");
  await notification("this workspace is not trusted");
  check(!extensionLog().includes("Started dumpscript-lsp"), "an untrusted workspace starts no server and says why");
  await shot("11-untrusted");
} catch (error) {
  await shot("error").catch(() => {});
  console.error(error);
  process.exitCode = 1;
} finally {
  await close().catch(() => {});
  await browser.close();
  if (process.exitCode && userData) {
    console.error(`VS Code logs: ${path.join(userData, "logs")}`);
  }
}
console.log(process.exitCode ? "vscode e2e: FAILED" : "vscode e2e: all passed");
