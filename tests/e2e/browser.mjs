// The browser tests' tooling: the Worker with its static assets under Miniflare, configured from
// wrangler.toml as `wrangler dev` configures it (startSite in tests/worker/helpers.mjs), listening on
// 127.0.0.1; Debian's Chromium and Firefox ESR driven headless by puppeteer-core; screenshots of failures
// (build/ui-test-failures/) and, with PB_UI_SCREENSHOTS=DIR, of the pages the docs show.
import puppeteer from "puppeteer-core";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root, startSite } from "../worker/helpers.mjs";

export { startSite };

export const CHROMIUM = process.env.PB_CHROMIUM ?? "/usr/bin/chromium";
export const FIREFOX = process.env.PB_FIREFOX ?? "/usr/bin/firefox-esr";
export const FAILURES = path.join(root, "build/ui-test-failures");

// A headless browser with a new empty profile, kept off the network but 127.0.0.1: Debian's Chromium
// over CDP, or Debian's Firefox ESR over WebDriver BiDi (puppeteer-core drives both).
export async function startBrowser(engine = "chromium") {
  const profile = mkdtempSync(path.join(tmpdir(), `pb-${engine}-`));
  const browser =
    engine === "firefox"
      ? await puppeteer.launch({
          browser: "firefox",
          executablePath: FIREFOX,
          headless: true,
          userDataDir: profile,
          extraPrefsFirefox: {
            "intl.locale.requested": "en-US",
            "app.update.enabled": false,
            "browser.safebrowsing.malware.enabled": false,
            "browser.safebrowsing.phishing.enabled": false,
            "network.captive-portal-service.enabled": false,
            "network.connectivity-service.enabled": false,
            "extensions.update.enabled": false,
            // Lets the test read the clipboard (navigator.clipboard.readText) without a prompt.
            "dom.events.testing.asyncClipboard": true,
          },
          timeout: 60_000,
          protocolTimeout: 120_000,
        })
      : await puppeteer.launch({
          executablePath: CHROMIUM,
          headless: true,
          args: [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`, "--disable-dev-shm-usage", "--lang=en-US",
          ],
          timeout: 60_000,
          protocolTimeout: 120_000,
        });
  return {
    browser,
    engine,
    async close() {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// A page that records what went wrong on it (console errors, failed requests, page errors), so a
// failure report says more than "selector not found".
export async function newPage(browser, { width = 1280, height = 860, mobile = false } = {}) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width, height, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: 1 });
  page.setDefaultTimeout(30_000);
  page.setDefaultNavigationTimeout(30_000);
  const log = [];
  page.on("console", (m) => (m.type() === "error" || m.type() === "warn") && log.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => log.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => log.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ""}`));
  page.on("response", (r) => r.status() >= 500 && log.push(`${r.status()} ${r.request().method()} ${r.url()}`));
  return { page, context, log };
}

// Runs fn; on failure saves a screenshot and the page's HTML and log under build/ui-test-failures/.
export async function withFailureShots(name, pages, fn) {
  try {
    return await fn();
  } catch (err) {
    mkdirSync(FAILURES, { recursive: true });
    const slug = name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    const notes = [];
    for (const [i, p] of pages().entries()) {
      const base = path.join(FAILURES, `${slug}-${i}`);
      try {
        await p.page.bringToFront();  // a background tab is not painted, so it cannot be captured
        await p.page.screenshot({ path: `${base}.png`, fullPage: true });
        writeFileSync(`${base}.html`, await p.page.content());
        writeFileSync(`${base}.log`, `${p.page.url()}\n${p.log.join("\n")}\n`);
        notes.push(`${base}.png`);
      } catch (e) {
        notes.push(`(no screenshot: ${e.message})`);
      }
    }
    err.message += `\nscreenshots: ${notes.join(", ")}\npage log:\n${pages().flatMap((p) => p.log).slice(-30).join("\n")}`;
    throw err;
  }
}

// The docs' screenshots, when PB_UI_SCREENSHOTS names a directory (scripts/screenshots sets it).
export async function docShot(page, name, { fullPage = false } = {}) {
  const dir = process.env.PB_UI_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.bringToFront();
  await page.evaluate(() => document.fonts?.ready);
  // WebP keeps the repository small (a tenth of PNG's size at this quality, text still crisp).
  await page.screenshot({ path: path.join(dir, `${name}.webp`), type: "webp", quality: 90, fullPage });
}

// Waits until the page's text contains `text` (or matches a RegExp), within `timeout` ms.
export async function waitForText(page, text, { timeout = 30_000, selector = "body" } = {}) {
  const source = text instanceof RegExp ? { re: text.source, flags: text.flags } : { s: text };
  try {
    await page.waitForFunction(
      (sel, src) => {
        const t = document.querySelector(sel)?.innerText ?? "";
        return src.re ? new RegExp(src.re, src.flags).test(t) : t.includes(src.s);
      },
      { timeout, polling: 100 },
      selector,
      source,
    );
  } catch (e) {
    const now = await page.evaluate((sel) => document.querySelector(sel)?.innerText ?? "(nothing)", selector).catch(() => "?");
    throw new Error(`"${text}" did not appear in ${selector} within ${timeout} ms; it shows:\n${now.slice(0, 1500)}`);
  }
}
