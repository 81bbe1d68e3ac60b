// A collection agent's day on the field page (/m/), on a phone's screen, as the Go test
// (web/e2e/field_test.go) hands it: sign in, wait for the list and for the service worker to
// hold the page, then lose the network; record a refusal, an unreachable lead, a lead's
// enrolment and a walk-in enrolment; reload the page offline (it opens from the service
// worker, with the list and the queue); get the network back and watch the queue empty; read
// what became of each entry; record a lead's enrolment offline while another client of the
// agent's closes that lead, and see the entry refused in the API's words; switch to English
// and back; sign out and find nothing left on the phone. It returns what it
// saw, and the entries as they were queued (the Go test sends them again).
import { request } from 'playwright-core';
import { run, PHONE, value, stepper } from './lib.mjs';

// The page's own database (app.js): the entries as queued, and how many records it holds.
const readPhone = (page) => page.evaluate(async () => {
  const names = (await indexedDB.databases()).map((d) => d.name);
  if (!names.includes('drives-field')) return { databases: names, entries: [], meta: 0 };
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open('drives-field');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const all = (store) => new Promise((resolve, reject) => {
    const r = db.transaction(store, 'readonly').objectStore(store).getAll();
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const out = { databases: names, entries: await all('entries'), meta: (await all('meta')).length };
  db.close();
  return out;
});

await run(async ({ page, context, input, shot }) => {
  const base = input.baseURL;
  const out = { steps: [], shots: {} };
  const step = stepper(out.steps);
  const rows = async () => {
    const ids = [];
    for (const r of await page.getByTestId('follow-up').all()) ids.push(Number(await r.getAttribute('data-id')));
    return ids;
  };
  // The page's own faults: a script error, or anything the Content-Security-Policy blocked.
  out.pageErrors = [];
  out.cspErrors = [];
  page.on('pageerror', (err) => out.pageErrors.push(String(err.message || err)));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) out.cspErrors.push(m.text());
  });
  // A full-page screenshot from the top (the bar sticks to the top of what is in view).
  const pageShot = async (name) => {
    await page.evaluate(() => window.scrollTo(0, 0));
    return shot(name);
  };
  const row = (id) => page.locator(`[data-testid="follow-up"][data-id="${id}"]`);
  const loaded = () => page.locator('body[data-loaded="1"]').waitFor();
  const queued = async () => Number(await value(page.getByTestId('queue-count')));
  const figures = async () => ({
    quota: await value(page.getByTestId('quota')),
    enrolled: await value(page.getByTestId('enrolled')),
    lastDecision: await value(page.getByTestId('last-decision')),
    lastDecisionText: (await page.getByTestId('last-decision').innerText()).trim(),
  });

  // Sign in: the form sends the agent on to the field page.
  await page.goto(`${base}/login?next=/m/`);
  await page.locator('input[name="user"]').fill(input.agent.user);
  await page.locator('input[name="password"]').fill(input.agent.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/m/'),
    page.getByTestId('login-submit').click(),
  ]);
  await loaded();
  await page.getByTestId('follow-up').first().waitFor();
  out.lang = await page.evaluate(() => document.documentElement.lang);
  step('signed in: the list is read');

  // The service worker holds the page from the next load on.
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
  await page.reload();
  await loaded();
  out.controlled = await page.evaluate(() => !!navigator.serviceWorker.controller);
  out.swScope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).scope);
  out.rowsOnline = await rows();
  out.before = await figures();
  out.netOnline = await value(page.getByTestId('net-state'));
  out.queueOnline = await queued();
  out.firstRow = {
    name: (await row(out.rowsOnline[0]).getByTestId('name').innerText()).trim(),
    phoneHref: await row(out.rowsOnline[0]).getByTestId('phone').getAttribute('href'),
    village: (await row(out.rowsOnline[0]).getByTestId('village').innerText()).trim(),
    event: await row(out.rowsOnline[0]).getByTestId('event').getAttribute('data-value'),
  };
  // Readable on the phone: nothing wider than the screen, buttons big enough for a thumb.
  out.layout = await page.evaluate(() => {
    const small = [];
    for (const b of document.querySelectorAll('button, a.phone')) {
      const r = b.getBoundingClientRect();
      if (r.width > 0 && (r.height < 40 || r.width < 40)) small.push(`${b.dataset.testid || b.textContent}: ${r.width}×${r.height}`);
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, small };
  });
  out.shots.online = await pageShot('field-online');
  step('the service worker holds the page');

  // Offline: four entries.
  await context.setOffline(true);
  await page.locator('[data-testid="net-state"][data-value="offline"]').waitFor();
  out.netOffline = 'offline';

  await row(input.declined).getByTestId('decline').click();
  await page.locator('textarea[name="reason"]').fill(input.declinedReason);
  await page.getByTestId('save').click();
  // The form closes at once and the entry is counted once it is stored (IndexedDB): wait for it.
  await page.locator('[data-testid="queue-count"][data-value="1"]').waitFor();

  // Unreachable needs a reason: without one the form says so and records nothing.
  await row(input.unreachable).getByTestId('unreachable').click();
  await page.getByTestId('save').click();
  await page.getByTestId('form-error').waitFor();
  out.reasonRequired = (await page.getByTestId('form-error').innerText()).trim();
  out.queueAfterRefusedForm = await queued();
  await page.locator('textarea[name="reason"]').fill(input.unreachableReason);
  await page.getByTestId('save').click();

  const fillTerms = async (terms) => {
    await page.locator('input[name="monthly_income"]').fill(terms.income);
    await page.locator('select[name="subsidy_class"]').selectOption(terms.subsidy);
    await page.locator('select[name="payment_mode"]').selectOption(terms.payment);
  };
  await row(input.enrolled).getByTestId('enrol').click();
  await fillTerms(input.enrolment);
  await page.getByTestId('save').click();

  await page.getByTestId('add-walk-in').click();
  const w = input.walkIn;
  await page.locator('input[name="citizen_id"]').fill(w.citizenID);
  await page.locator('input[name="full_name"]').fill(w.fullName);
  await page.locator('input[name="phone"]').fill(w.phone);
  await page.locator('select[name="village"]').selectOption(w.village);
  await page.locator('select[name="group"]').selectOption(w.group);
  await fillTerms(w);
  await page.getByTestId('save').click();
  await page.getByTestId('list-view').waitFor();
  // Read once the fourth is stored (the list shows before it is), or fail waiting.
  await page.locator('[data-testid="queue-count"][data-value="4"]').waitFor();

  out.queueOffline = await queued();
  out.queueText = (await page.getByTestId('queue-count').innerText()).trim();
  const phone = await readPhone(page);
  out.queued = phone.entries.sort((a, b) => a.createdAt - b.createdAt).map((e) => ({ state: e.state, body: e.body }));
  step('four entries recorded offline');

  // The page opens offline, from the service worker, with the list and the queue.
  await page.reload();
  await loaded();
  out.afterReload = {
    net: await value(page.getByTestId('net-state')),
    queue: await queued(),
    rows: await rows(),
    waitingRows: await page.locator('[data-testid="follow-up"] [data-testid="entry-state"][data-value="waiting"]').count(),
    entries: await page.getByTestId('entry').count(),
  };
  out.shots.offline = await pageShot('field-offline');
  step('reloaded offline');

  // The network comes back: the queue is sent by itself.
  const t0 = Date.now();
  await context.setOffline(false);
  await page.locator('[data-testid="queue-count"][data-value="0"]').waitFor({ timeout: 60000 });
  out.sentMs = Date.now() - t0;
  await page.locator('[data-testid="net-state"][data-value="online"]').waitFor();
  // The list read again after the send: the closed follow-ups are gone.
  await page.waitForFunction((gone) => !gone.some((id) => document.querySelector(`[data-testid="follow-up"][data-id="${id}"]`)),
    [input.declined, input.unreachable, input.enrolled]);
  out.results = [];
  for (const e of await page.getByTestId('entry').all()) {
    const refused = e.getByTestId('refused');
    out.results.push({
      id: await e.getAttribute('data-id'),
      kind: await e.getAttribute('data-kind'),
      status: await e.getAttribute('data-status'),
      again: await e.getAttribute('data-again'),
      refused: (await refused.count()) ? (await refused.innerText()).trim() : '',
    });
  }
  out.rowsAfter = await rows();
  out.after = await figures();
  out.shots.sent = await pageShot('field-sent');
  step(`sent when online again (${out.sentMs} ms)`);

  // A conflict: offline, the agent enrols a lead on the phone; meanwhile another client of
  // theirs (the agency's software, with the agent's API token) records that lead as declined.
  // Sent, the phone's entry is refused in the API's words, shown on the entry.
  await context.setOffline(true);
  await page.locator('[data-testid="net-state"][data-value="offline"]').waitFor();
  await row(input.conflict).getByTestId('enrol').click();
  await fillTerms(input.enrolment);
  await page.getByTestId('save').click();
  await page.locator('[data-testid="queue-count"][data-value="1"]').waitFor();
  const api = await request.newContext({ baseURL: base,
    extraHTTPHeaders: { Authorization: `Bearer ${input.agentToken}`, Accept: 'application/json' } });
  const otherID = crypto.randomUUID();
  const other = await api.post('/api/field/entries', { data: { campaign: input.campaign, entries: [
    { id: otherID, kind: 'outcome', follow_up: input.conflict, outcome: 'declined', reason: input.declinedReason }] } });
  out.other = { id: otherID, status: other.status(), body: await other.json() };
  await api.dispose();
  const refusedEntry = page.locator(`[data-testid="entry"][data-follow-up="${input.conflict}"]`);
  const conflictID = await refusedEntry.getAttribute('data-id');
  await context.setOffline(false);
  await page.locator('[data-testid="queue-count"][data-value="0"]').waitFor({ timeout: 60000 });
  await refusedEntry.getByTestId('refused').waitFor();
  await page.waitForFunction((id) => !document.querySelector(`[data-testid="follow-up"][data-id="${id}"]`), input.conflict);
  out.conflict = {
    id: conflictID,
    status: await refusedEntry.getAttribute('data-status'),
    field: await refusedEntry.getByTestId('refused').getAttribute('data-field'),
    refused: (await refusedEntry.getByTestId('refused').innerText()).trim(),
    rows: await rows(),
  };
  out.shots.refused = await pageShot('field-refused');
  step('a conflict, refused in words');

  // English, and back.
  await page.getByTestId('lang').click();
  out.english = {
    lang: await page.evaluate(() => document.documentElement.lang),
    net: (await page.getByTestId('net-state').innerText()).trim(),
    today: (await page.locator('.list-view h2').innerText()).trim(),
  };
  await page.getByTestId('lang').click();
  out.langBack = await page.evaluate(() => document.documentElement.lang);

  // Signing out leaves nothing on the phone.
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login'),
    page.getByTestId('sign-out').click(),
  ]);
  out.signedOut = await page.evaluate(async () => ({
    databases: (await indexedDB.databases()).map((d) => d.name),
    caches: await caches.keys(),
    workers: (await navigator.serviceWorker.getRegistrations()).length,
  }));
  const back = await page.goto(`${base}/m/`);
  out.signedOut.reopenedPath = new URL(page.url()).pathname;
  out.signedOut.reopenedStatus = back ? back.status() : 0;
  await context.setOffline(true);
  try {
    await page.goto(`${base}/m/`);
    out.signedOut.offlineOpened = true;
  } catch (err) {
    out.signedOut.offlineOpened = false;
    out.signedOut.offlineError = String(err.message || err).split('\n')[0];
  }
  out.signedOut.offlineRows = await page.getByTestId('follow-up').count();
  await context.setOffline(false);
  step('signed out');
  return out;
}, PHONE);
