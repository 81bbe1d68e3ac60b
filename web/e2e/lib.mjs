// Shared by the browser scripts: run(fn) reads the Go test's input (JSON on stdin), launches
// the system's Chromium headless with a fresh profile (run(fn, PHONE): with a phone's screen),
// calls fn({ page, context, input, shot }), and writes { ok, result, error, screenshots } to the
// reply file the Go side reads (internal/browser). On failure it saves a screenshot of the page
// as it was.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

// The network of a test machine may be closed: without these, Chromium keeps trying to reach
// its update, sync and field-trial services and can hang on refused connections.
const ARGS = [
  '--headless',
  '--no-sandbox', // root in a container has no user namespaces for the sandbox
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser scripts from the Go tests (internal/browser)`);
  return v;
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  return text ? JSON.parse(text) : {};
}

// PHONE is a phone's screen for run: 360 × 740 CSS pixels, touch, mobile layout.
export const PHONE = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

export async function run(fn, device = {}) {
  const reply = { ok: false, result: null, error: '', screenshots: [] };
  const shotsDir = env('DRIVES_E2E_SHOTS');
  let context;
  let page;
  const shot = async (name, p = page) => {
    const file = path.join(shotsDir, `${name}.png`);
    await p.screenshot({ path: file, fullPage: true });
    reply.screenshots.push(file);
    return file;
  };
  try {
    const input = await readStdin();
    context = await chromium.launchPersistentContext(env('DRIVES_E2E_PROFILE'), {
      executablePath: env('DRIVES_E2E_CHROMIUM'),
      headless: true,
      args: ARGS,
      locale: input.locale || 'vi-VN',
      timezoneId: 'Asia/Ho_Chi_Minh',
      viewport: { width: 1280, height: 900 },
      ...device,
    });
    context.setDefaultTimeout(input.timeoutMs || 30000); // generous: CI runs every package at once
    page = context.pages()[0] || (await context.newPage());
    reply.result = await fn({ page, context, input, shot });
    reply.ok = true;
  } catch (err) {
    reply.error = (err && err.stack) || String(err);
    if (page) {
      try { await shot('failure'); } catch { /* the page may be gone */ }
    }
  } finally {
    if (context) {
      try { await context.close(); } catch { /* already closed */ }
    }
    fs.writeFileSync(env('DRIVES_E2E_REPLY'), JSON.stringify(reply));
  }
  process.exitCode = reply.ok ? 0 : 1;
}

// value is an element's data-value: the figure it shows, unformatted.
export const value = async (loc) => loc.getAttribute('data-value');

// signIn signs in through the form and waits to leave it.
export async function signIn(page, base, who) {
  await page.goto(`${base}/login`);
  await page.locator('input[name="user"]').fill(who.user);
  await page.locator('input[name="password"]').fill(who.password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByTestId('login-submit').click(),
  ]);
}

// loadTime is how long the page's last navigation took, to its load event, in milliseconds.
export const loadTime = (page) => page.evaluate(() => {
  const [n] = performance.getEntriesByType('navigation');
  return n ? Math.round(n.loadEventEnd - n.startTime) : null;
});

// stepper times a script's steps: step(s) notes s with the time since the last step.
export function stepper(steps) {
  let last = Date.now();
  return (s) => {
    const now = Date.now();
    steps.push(`${s} (${now - last} ms)`);
    last = now;
  };
}
