// The web UI in real browsers: Debian's Chromium and Firefox ESR, headless, driven by puppeteer-core
// (CDP and WebDriver BiDi), each against its own Worker and its static assets under Miniflare
// (configured from wrangler.toml). The flows of issue 9:
// sign in, upload an artifact, create a token and copy its secret, install the package with the real
// composer client using the commands the page shows, see the download on the overview, add a composer
// source and sync it, revoke the token and find the audit entry, the customer page for a scoped token,
// and that a package token cannot open the console. Along the way: keyboard use, labelled fields, no
// CSP violation, no horizontal scrolling on a phone. With PB_E2E_TARGET=server the same flows run
// against the self-hosted server (tests/server/stack.mjs), which serves the same ui/ files itself
// (docs/SELF-HOSTING.md). A failure saves screenshots, the page's HTML and
// its log to build/ui-test-failures/; PB_UI_SCREENSHOTS=DIR saves the docs' screenshots there.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSite, startBrowser, newPage, withFailureShots, docShot, waitForText } from "./browser.mjs";
import * as composerRepo from "../upstreams/composer-repo.mjs";
import { zipFiles } from "../upstreams/zip.mjs";
import { startServer } from "../server/stack.mjs";

const ADMIN = "ui-browser-admin-token-3f9a";
const KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const TARGET = process.env.PB_E2E_TARGET ?? "worker";
// The Worker with its static assets under Miniflare, or pb_server on its defaults (SQLite, files).
const startTarget = () =>
  TARGET === "server"
    ? startServer({ PB_ENCRYPTION_KEY: KEY, PB_CRON_INTERVAL_S: "0" }, { label: "ui-browser", adminToken: ADMIN })
    : startSite({ bindings: { ADMIN_TOKEN: ADMIN, PB_ENCRYPTION_KEY: KEY } });

function suite(engine) {
  let site, chrome, upstream, work;
  const pages = [];
  let admin; // the console tab
  let secret; // the token created in the console
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // The docs' screenshots come from Chromium; Firefox runs the same flows.
  const shot = (...args) => (engine === "chromium" ? docShot(...args) : undefined);

  const basic = (t) => `Basic ${Buffer.from(`token:${t}`).toString("base64")}`;
  async function apiCall(method, p, { body, auth = `Bearer ${ADMIN}` } = {}) {
    const r = await fetch(site.origin + p, {
      method,
      headers: { authorization: auth, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: r.status, json: await r.json().catch(() => null) };
  }

  function composer(dir, args, timeout = 180_000) {
    return new Promise((resolve) => {
      execFile(
        "composer",
        [...args, "--no-interaction"],
        {
          cwd: dir,
          timeout,
          env: { ...process.env, COMPOSER_HOME: path.join(dir, ".home"), COMPOSER_CACHE_DIR: path.join(dir, ".cache"), COMPOSER_NO_INTERACTION: "1" },
        },
        (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
      );
    });
  }

  function packageZip(name, version, extra = {}) {
    return zipFiles(
      {
        "composer.json": JSON.stringify({ name, version, description: `The ${name} package`, type: "library", autoload: { "psr-4": { "Acme\\Widget\\": "src/" } }, ...extra }),
        "src/Widget.php": `<?php\nnamespace Acme\\Widget;\nclass Widget { public const VERSION = '${version}'; }\n`,
        // Incompressible bytes, so the upload takes long enough to show its progress.
        "data/blob.bin": randomBytes(3 * 1024 * 1024),
      },
      { prefix: `${name.replace("/", "-")}-${version}/`, compress: false },
    );
  }

  // Every input, select and textarea on the page has a label (or an aria-label).
  async function unlabelled(page) {
    return page.$$eval("input, select, textarea", (els) =>
      els
        .filter((e) => e.type !== "hidden" && e.type !== "radio" && e.type !== "checkbox" && !(e.labels?.length || e.getAttribute("aria-label")))
        .map((e) => e.outerHTML.slice(0, 120)),
    );
  }

  // Headless Chromium paints only the tab in front; clicks and screenshots need it there.
  async function gotoConsole(p, hash) {
    await p.page.bringToFront();
    await p.page.goto(`${site.origin}/admin/${hash}`);
    await p.page.waitForSelector("main h1");
  }

  // Page problems that are not the test's own doing: CSP violations, script errors, 5xx.
  function problems(p) {
    return p.log.filter((l) => /^5\d\d |Refused to|page error|Content.Security.Policy/i.test(l));
  }

  // Closes a page that a step opened, once the step passed (a failing step leaves it for its screenshot).
  async function done(p) {
    await p.page.close();
    pages.splice(pages.indexOf(p), 1);
  }

  describe(`the web UI in ${engine === "firefox" ? "Firefox" : "Chromium"}${TARGET === "server" ? " on the self-hosted server" : ""}`, { timeout: 900_000 }, () => {
    before(async () => {
      work = mkdtempSync(path.join(tmpdir(), "pb-ui-"));
      site = await startTarget();
      upstream = await composerRepo.start({
        mode: "v2",
        username: "deploy",
        password: "upstream-secret",
        packages: [{ name: "upstream/lib", versions: [{ version: "1.2.0", description: "A library from another repository" }] }],
      });
      chrome = await startBrowser(engine);
      admin = await newPage(chrome.browser);
      pages.push(admin);
      // The test reads what "Copy" put on the clipboard (Firefox: a pref in startBrowser allows it).
      if (engine === "chromium") await admin.context.overridePermissions(site.origin, ["clipboard-read", "clipboard-write", "clipboard-sanitized-write"]);
    });

    after(async () => {
      await chrome?.close();
      await site?.stop();
      await upstream?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const step = (name, fn, timeout = 240_000) => it(name, { timeout }, () => withFailureShots(`${engine} ${name}`, () => pages, fn));

    step("the start page explains the service to a visitor without a token and shows no package name", async () => {
      // Something to hide first.
      const r = await fetch(`${site.origin}/admin/api/artifacts?version=0.9.0`, {
        method: "PUT",
        headers: { authorization: `Bearer ${ADMIN}` },
        body: packageZip("other/secret", "0.9.0"),
      });
      assert.equal(r.status, 201, await r.text());
      const visitor = await newPage(chrome.browser, { width: 390, height: 844, mobile: true });
      pages.push(visitor);
      await visitor.page.bringToFront();
      const calls = [];
      visitor.page.on("request", (q) => !q.url().includes("/assets/") && calls.push(new URL(q.url()).pathname));
      await visitor.page.goto(`${site.origin}/`);
      await waitForText(visitor.page, "How to get access");
      const text = await visitor.page.evaluate(() => document.body.innerText);
      assert.doesNotMatch(text, /other\/secret/);
      assert.deepEqual(calls, ["/"], "the anonymous page asks the API nothing");
      assert.deepEqual(await unlabelled(visitor.page), []);
      const overflow = await visitor.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a phone`);
      await shot(visitor.page, "customer-anonymous-phone");
      assert.deepEqual(problems(visitor), []);
      await done(visitor);
    });

    step("the browser enforces the pages' Content-Security-Policy (and the test would see a violation)", async () => {
      const probe = await newPage(chrome.browser);
      pages.push(probe);
      await probe.page.bringToFront();
      await probe.page.goto(`${site.origin}/admin/`);
      await probe.page.waitForSelector("#admin-token");
      assert.deepEqual(problems(probe), []);
      const ran = await probe.page.evaluate(() => {
        const s = document.createElement("script");
        s.textContent = "window.injected = true";
        document.head.append(s);
        return window.injected === true;
      });
      assert.equal(ran, false, "an inline script ran despite the CSP");
      for (let i = 0; i < 50 && !problems(probe).length; i++) await sleep(100);
      assert.ok(problems(probe).length > 0, `the violation was not reported; the page log:\n${probe.log.join("\n")}`);
      await done(probe);
    });

    step("signs in to the console with the keyboard; a wrong token is refused in words next to the field", async () => {
      const { page } = admin;
      await page.bringToFront();
      await page.goto(`${site.origin}/admin/`);
      await page.waitForSelector("#admin-token");
      // Tab to the field (the skip link and the brand come first), bounded.
      for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.id === "admin-token")); i++) await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "admin-token");
      await page.keyboard.type("not-the-admin-token");
      await page.keyboard.press("Enter");
      await waitForText(page, "Not signed in", { selector: "#admin-token-error" });
      assert.equal(await page.$eval("#admin-token", (e) => e.getAttribute("aria-invalid")), "true");
      await page.$eval("#admin-token", (e) => (e.value = ""));
      await page.type("#admin-token", ADMIN);
      await page.keyboard.press("Enter");
      await waitForText(page, "Overview", { selector: "main h1" });
      await waitForText(page, "Health");
      const cookie = (await page.cookies()).find((c) => c.name === "pb_session");
      assert.ok(cookie?.httpOnly, "the session cookie is HttpOnly");
      assert.equal(cookie.sameSite, "Strict");
    });

    step("uploads an artifact and shows the upload's progress", async () => {
      const { page } = admin;
      await gotoConsole(admin, "#/packages");
      await waitForText(page, "Upload a version");
      assert.deepEqual(await unlabelled(page), []);
      const file = path.join(work, "acme-widget-1.0.0.zip");
      writeFileSync(file, packageZip("acme/widget", "1.0.0"));
      await page.evaluate(() => {
        window.sawProgress = false;
        new MutationObserver(() => document.querySelector("progress") && (window.sawProgress = true)).observe(document.body, { subtree: true, childList: true });
      });
      const input = await page.$("#upload-file");
      await input.uploadFile(file);
      await page.click("form[aria-labelledby=up-h] button[type=submit]");
      await waitForText(page, "Uploaded acme/widget 1.0.0");
      assert.equal(await page.evaluate(() => window.sawProgress), true, "a progress bar was shown during the upload");
      await waitForText(page, "acme/widget", { selector: "table" });
      // The same version again: refused, the API's words next to the form, the chosen file kept.
      await page.click("form[aria-labelledby=up-h] button[type=submit]");
      await waitForText(page, "already exists", { selector: "form[aria-labelledby=up-h]" });
      assert.equal(await page.$eval("#upload-file", (e) => e.files.length), 1);
      await shot(page, "console-packages", { fullPage: true });
    });

    step("creates a token, copies its secret and shows the composer set-up for it", async () => {
      const { page } = admin;
      await gotoConsole(admin, "#/tokens");
      await page.waitForSelector("#token-name");
      // A bad field first: the API's message appears at that field and nothing typed is lost.
      await page.type("#token-name", "ci laptop");
      await page.type("#token-packages", "acme/*");
      await page.type("#token-rate_limit", "-5");
      await page.click("form[aria-labelledby=new-token-h] button[type=submit]");
      await waitForText(page, "rate_limit", { selector: "#token-rate_limit-error" });
      assert.equal(await page.$eval("#token-name", (e) => e.value), "ci laptop");
      await page.$eval("#token-rate_limit", (e) => (e.value = ""));
      await page.$eval("#token-rate_limit", (e) => e.dispatchEvent(new Event("input", { bubbles: true })));
      await page.click("form[aria-labelledby=new-token-h] button[type=submit]");
      await page.waitForSelector("#new-token-secret");
      const shown = await page.$eval("#new-token-secret", (e) => e.value);
      assert.match(shown, /^pbt_/);
      await page.click("::-p-text(Copy secret)");
      await waitForText(page, "Copied");
      secret = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(secret, shown, "the clipboard holds the secret");
      const host = new URL(site.origin).host;
      const auth = JSON.parse(await page.$eval("#new-token-auth", (e) => e.textContent));
      assert.deepEqual(auth, { "http-basic": { [host]: { username: "token", password: secret } } });
      await shot(page, "console-token-created", { fullPage: true });
    });

    step("composer installs the uploaded package with that secret, set up with the commands the console showed", async () => {
      const commands = (await admin.page.$eval("#new-token-commands", (e) => e.textContent)).split("\n").filter(Boolean);
      const dir = path.join(work, "project");
      mkdirSync(dir);
      // packagist.org is off: this machine cannot reach it (and the test must not).
      writeFileSync(path.join(dir, "composer.json"), JSON.stringify({ name: "ui/test", require: {}, repositories: { "packagist.org": false } }));
      for (const line of commands) {
        const [bin, ...args] = line.split(" ");
        assert.equal(bin, "composer");
        const r = await composer(dir, args);
        assert.equal(r.code, 0, `${line}\n${r.out}`);
      }
      const req = await composer(dir, ["require", "acme/widget:^1.0", "--no-progress"]);
      assert.equal(req.code, 0, req.out);
      assert.ok(existsSync(path.join(dir, "vendor/acme/widget/src/Widget.php")), req.out);
      assert.match(readFileSync(path.join(dir, "vendor/acme/widget/src/Widget.php"), "utf8"), /VERSION = '1\.0\.0'/);
    });

    step("the overview counts the download", async () => {
      const { page } = admin;
      // composer reports installs after it finished; the overview is reloaded until it shows it (bounded).
      let text = "";
      for (let i = 0; i < 20; i++) {
        await gotoConsole(admin, "#/");
        await waitForText(page, /\d+ download/, { selector: "#downloads-total" });
        text = await page.$eval("#downloads-total", (e) => e.innerText);
        if (/^1 download,/.test(text)) break;
        await sleep(1000);
      }
      assert.match(text, /^1 download, 1 archive fetch$/);
      await waitForText(page, "session.create", { selector: "main" });
      await shot(page, "console-overview", { fullPage: true });
      await gotoConsole(admin, "#/packages/acme/widget");
      await waitForText(page, "Versions (1)");
      const row = await page.$eval("tbody tr", (tr) => [...tr.cells].map((c) => c.innerText.trim()));
      assert.equal(row[0], "1.0.0");
      assert.match(row[2], /MiB/);
      assert.equal(row[5], "1", "downloads of 1.0.0");
      await shot(page, "console-package", { fullPage: true });
    });

    step("adds a composer source with its own form and syncs it with progress", async () => {
      const { page } = admin;
      await gotoConsole(admin, "#/sources");
      await page.waitForSelector("#src-url");
      assert.deepEqual(await unlabelled(page), []);
      // Each type has its own form: a GitHub source asks for an API base, a composer one does not.
      await page.click("input[value=github]");
      await page.waitForSelector("#src-api_url");
      await page.click("input[value=composer]");
      await page.waitForFunction(() => !document.getElementById("src-api_url"));
      await page.type("#src-url", upstream.url);
      await page.select("#src-credentials", "basic");
      await page.type("#src-username", "deploy");
      await page.type("#src-password", "upstream-secret");
      await page.type("#src-include", "upstream/*");
      await page.click("form[aria-labelledby=add-src-h] button[type=submit]");
      await page.waitForSelector("#hook-secret");
      assert.match(await page.$eval("#hook-url", (e) => e.value), /\/hooks\/\d+\//);
      await page.click("::-p-text(Open the source)");
      await waitForText(page, "Sync now");
      await page.click("::-p-text(Sync now)");
      await waitForText(page, /Sync ok: 1 package, 1 version\./, { selector: "#sync-result", timeout: 60_000 });
      await waitForText(page, "synced");
      await shot(page, "console-source", { fullPage: true });
      await gotoConsole(admin, "#/packages");
      await waitForText(page, "upstream/lib", { selector: "table" });
    });

    step("every console page fits a phone's width and labels every field", async () => {
      const { page } = admin;
      await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
      try {
        for (const hash of ["#/", "#/packages", "#/packages/acme/widget", "#/tokens", "#/sources", "#/sources/1", "#/audit", "#/admins"]) {
          await gotoConsole(admin, hash);
          await page.waitForFunction(() => !document.querySelector("main [role=status] .spinner"));
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          assert.ok(overflow <= 0, `${hash} scrolls sideways by ${overflow}px on a phone`);
          assert.deepEqual(await unlabelled(page), [], hash);
        }
        await gotoConsole(admin, "#/packages/acme/widget");
        await waitForText(page, "Versions (1)");
        await shot(page, "console-package-phone");
      } finally {
        await page.setViewport({ width: 1280, height: 860 });
      }
    });

    step("revokes the token from a second tab and finds the audit entry", async () => {
      // A second tab of the same browser: signed in through the cookie, its CSRF token from the session.
      const tab = { page: await admin.context.newPage(), log: [] };
      tab.page.on("console", (m) => m.type() === "error" && tab.log.push(`console.error: ${m.text()}`));
      pages.push(tab);
      await tab.page.setViewport({ width: 1280, height: 860 });
      await gotoConsole(tab, "#/tokens");
      await waitForText(tab.page, "ci laptop", { selector: "table" });
      await tab.page.click("[aria-label='Revoke token ci laptop']");
      await tab.page.waitForSelector("dialog[open]");
      // Escape cancels; nothing is revoked.
      await tab.page.keyboard.press("Escape");
      await tab.page.waitForFunction(() => !document.querySelector("dialog[open]"));
      assert.equal((await apiCall("GET", "/packages.json", { auth: basic(secret) })).status, 200);
      await tab.page.click("[aria-label='Revoke token ci laptop']");
      await tab.page.waitForSelector("dialog[open]");
      await tab.page.click("dialog[open] button.danger");
      await waitForText(tab.page, 'Revoked "ci laptop"');
      assert.equal((await apiCall("GET", "/packages.json", { auth: basic(secret) })).status, 401);
      await gotoConsole(tab, "#/audit");
      await tab.page.type("#audit-action", "token.revoke");
      await tab.page.click("::-p-text(Apply filters)");
      await tab.page.waitForFunction(() => {
        const rows = [...document.querySelectorAll("tbody tr")];
        return rows.length > 0 && rows.every((r) => r.cells[2]?.innerText.trim() === "token.revoke");
      });
      const cells = await tab.page.$eval("tbody tr", (tr) => [...tr.cells].map((c) => c.innerText));
      assert.match(cells[1], /ADMIN_TOKEN/);
      assert.match(cells[3], /^token:\d+/);
      await tab.page.$eval("#audit-action", (e) => (e.value = ""));
      await tab.page.$eval("#audit-action", (e) => e.dispatchEvent(new Event("input", { bubbles: true })));
      await tab.page.click("::-p-text(Apply filters)");
      await waitForText(tab.page, "artifact.upload", { selector: "table" });
      await shot(tab.page, "console-audit");
      assert.deepEqual(problems(tab), []);
      await done(tab);
    });

    step("the customer page of a scoped, licensed token shows only its packages and versions, and the composer set-up", async () => {
      // A newer major release the customer's licence does not cover.
      const up = await fetch(`${site.origin}/admin/api/artifacts`, { method: "PUT", headers: { authorization: `Bearer ${ADMIN}` }, body: packageZip("acme/widget", "2.0.0") });
      assert.equal(up.status, 201, await up.text());
      const scoped = await apiCall("POST", "/admin/api/tokens", {
        body: { name: "customer", packages: ["acme/*"], licences: [{ packages: "acme/widget", constraint: "^1.0" }] },
      });
      assert.equal(scoped.status, 201);
      const customer = await newPage(chrome.browser);
      pages.push(customer);
      const { page } = customer;
      await page.bringToFront();
      await page.goto(`${site.origin}/`);
      await page.waitForSelector("#token");
      await page.type("#token", "pbt_wrong");
      await page.keyboard.press("Enter");
      await waitForText(page, "This token was not accepted", { selector: "#token-error" });
      await page.$eval("#token", (e) => (e.value = ""));
      await page.type("#token", scoped.json.token);
      await page.keyboard.press("Enter");
      await waitForText(page, "What your token may install (1)");
      const text = await page.evaluate(() => document.body.innerText);
      assert.match(text, /acme\/widget/);
      assert.doesNotMatch(text, /other\/secret|upstream\/lib/);
      assert.ok(!text.includes(scoped.json.token), "the token is masked on screen");
      await page.click("summary::-p-text(acme/widget)");
      await waitForText(page, "composer require acme/widget:^1.0");
      await waitForText(page, "1.0.0", { selector: "details[open] table" });
      const versions = await page.$$eval("details[open] tbody tr", (rows) => rows.map((r) => r.cells[0].innerText.trim()));
      assert.deepEqual(versions, ["1.0.0"], "the licence hides 2.0.0");
      const host = new URL(site.origin).host;
      assert.match(await page.$eval("#setup-commands", (e) => e.textContent), new RegExp(`http-basic\\.${host.replace(/\./g, "\\.")} token pbt_`));
      assert.deepEqual(await unlabelled(page), []);
      await shot(page, "customer-packages", { fullPage: true });
      // The tab remembers the token across a reload, and forgets it on request.
      await page.reload();
      await waitForText(page, "What your token may install (1)");
      await page.click("::-p-text(Forget the token in this tab)");
      await waitForText(page, "How to get access");
      assert.doesNotMatch(await page.evaluate(() => document.body.innerText), /acme\/widget/);
      assert.deepEqual(problems(customer), []);
      await done(customer);
    });

    step("a package token cannot open the console", async () => {
      const t = await apiCall("POST", "/admin/api/tokens", { body: { name: "not an admin" } });
      const stranger = await newPage(chrome.browser);
      pages.push(stranger);
      const { page } = stranger;
      await page.bringToFront();
      await page.goto(`${site.origin}/admin/#/tokens`);
      await page.waitForSelector("#admin-token");
      await page.type("#admin-token", t.json.token);
      await page.keyboard.press("Enter");
      await waitForText(page, "package tokens cannot open the console", { selector: "#admin-token-error" });
      assert.equal((await page.cookies()).some((c) => c.name === "pb_session"), false);
      assert.doesNotMatch(await page.evaluate(() => document.body.innerText), /ci laptop|acme\/widget/);
      // Straight at the API, with the token as Bearer, as Basic, and with the console's cookie name: 401.
      for (const auth of [`Bearer ${t.json.token}`, basic(t.json.token)]) assert.equal((await apiCall("GET", "/admin/api/tokens", { auth })).status, 401);
      await done(stranger);
    });

    step("a viewer reads but finds no form that changes something; a session that ends keeps what was typed", async () => {
      const viewer = await apiCall("POST", "/admin/api/admins", { body: { name: "vera", role: "viewer" } });
      const maint = await apiCall("POST", "/admin/api/admins", { body: { name: "max", role: "maintainer" } });
      assert.equal(maint.status, 201);
      const other = await newPage(chrome.browser);
      pages.push(other);
      const { page } = other;
      const signIn = async (token) => {
        await page.waitForSelector("#admin-token");
        await page.type("#admin-token", token);
        await page.keyboard.press("Enter");
        await page.waitForFunction(() => !document.querySelector("main #admin-token") && document.querySelector("nav.main"));
      };
      await page.bringToFront();
      await page.goto(`${site.origin}/admin/#/tokens`);
      await signIn(viewer.json.token);
      await waitForText(page, "change nothing");
      assert.equal(await page.$("#token-name"), null, "no create form for a viewer");
      assert.equal(await page.$("[aria-label^='Revoke token']"), null, "no revoke button for a viewer");
      assert.doesNotMatch(await page.$eval("nav.main", (n) => n.innerText), /Admins/);
      await page.click("::-p-text(Sign out)");
      await waitForText(page, "You are signed out.");

      await signIn(maint.json.token);
      await page.waitForSelector("#token-name");
      await page.type("#token-name", "typed before the session ended");
      await page.type("#token-packages", "acme/*");
      // Revoking the admin ends its sessions at once.
      assert.equal((await apiCall("DELETE", `/admin/api/admins/${maint.json.id}`)).status, 200);
      await page.click("form[aria-labelledby=new-token-h] button[type=submit]");
      await page.waitForSelector("dialog[open] #admin-token");
      await waitForText(page, "Your session ended", { selector: "dialog[open]" });
      assert.equal(await page.$eval("#token-name", (e) => e.value), "typed before the session ended");
      await page.type("dialog[open] #admin-token", ADMIN);
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => !document.querySelector("dialog[open]"));
      assert.equal(await page.$eval("#token-packages", (e) => e.value), "acme/*");
      await page.click("form[aria-labelledby=new-token-h] button[type=submit]");
      await page.waitForSelector("#new-token-secret");
      assert.deepEqual(problems(other), []);
      await done(other);
    });

    step("signs out; the console then shows the sign-in form again", async () => {
      const { page } = admin;
      await gotoConsole(admin, "#/");
      await page.click("::-p-text(Sign out)");
      await waitForText(page, "You are signed out.");
      await page.reload();
      await page.waitForSelector("#admin-token");
      assert.equal((await page.cookies()).some((c) => c.name === "pb_session"), false);
      assert.deepEqual(problems(admin), []);
    });
  });
}

for (const engine of ["chromium", "firefox"]) suite(engine);
