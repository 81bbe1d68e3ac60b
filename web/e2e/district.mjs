// A district officer's way through a running campaign, as the Go test
// (web/e2e/district_test.go) hands it: sign in with the one-time password an account was made
// with, be sent to choose a new one, read the campaign page's figures, district rows and scope,
// approve the district's pending termination with a reason on the reviews page, then try what
// lies outside the district: a decision on another district's agent, and that district's
// units, page and JSON. It returns what it saw; the Go test compares that with the report and
// the database.
import { run, value, signIn, loadTime, stepper } from './lib.mjs';

await run(async ({ page, input, shot }) => {
  const base = input.baseURL;
  const camp = `${base}/campaigns/${encodeURIComponent(input.campaign)}`;
  const out = { steps: [] };
  const step = stepper(out.steps);

  // The one-time password leads to the password form, and so does the campaign page until a
  // new password is chosen.
  await signIn(page, base, input.officer);
  out.landedPath = new URL(page.url()).pathname;
  out.mustChange = await page.getByTestId('must-change').count();
  await page.goto(camp);
  out.blockedPath = new URL(page.url()).pathname;
  await page.locator('input[name="current"]').fill(input.officer.password);
  await page.locator('input[name="new"]').fill(input.newPassword);
  await Promise.all([page.waitForLoadState('load'), page.getByTestId('password-submit').click()]);
  await page.getByTestId('done').waitFor();
  out.passwordDone = await page.getByTestId('done').count();
  out.who = (await page.getByTestId('who').innerText()).trim();
  step('signed in and chose a password');

  // The campaign page, from the list of campaigns: the district's figures and rows.
  await page.goto(`${base}/`);
  const listed = page.locator(`[data-testid="campaign-row"][data-campaign="${input.campaign}"]`);
  out.listRow = { enrolled: await value(listed.getByTestId('enrolled')), target: await value(listed.getByTestId('target')) };
  await Promise.all([
    page.waitForURL((u) => u.pathname === `/campaigns/${input.campaign}`),
    listed.locator(`a[href$="/campaigns/${input.campaign}"]`).first().click(),
  ]);
  await page.waitForLoadState('load');
  out.campaignLoadMs = await loadTime(page);
  out.status = await value(page.getByTestId('campaign-status'));
  out.scope = await value(page.getByTestId('scope'));
  out.city = {
    enrolled: await value(page.getByTestId('city-enrolled')),
    target: await value(page.getByTestId('city-target')),
    attainment: await value(page.getByTestId('city-attainment')),
  };
  out.districts = {};
  for (const row of await page.getByTestId('district-row').all()) {
    out.districts[await row.getAttribute('data-unit')] = {
      enrolled: await value(row.getByTestId('enrolled')),
      target: await value(row.getByTestId('target')),
    };
  }
  out.shots = { campaign: await shot('campaign') };
  step('read the campaign page');

  // Reviews: only the district's pending termination, approved with a reason.
  await page.goto(`${camp}/reviews`);
  out.pendingRows = [];
  for (const r of await page.getByTestId('pending-row').all()) {
    out.pendingRows.push({ agent: await r.getAttribute('data-agent'), period: await r.getAttribute('data-period') });
  }
  out.otherPending = await page.locator(`[data-testid="pending-row"][data-agent="${input.otherAgent}"]`).count();
  const csrf = await page.locator('form.decide input[name="csrf"]').first().getAttribute('value');
  const row = () => page.locator(
    `[data-testid="pending-row"][data-agent="${input.agent}"][data-period="${input.period}"]`);
  if ((await row().count()) === 0) {
    // Not the officer's to decide, as far as the page says: the Go test says what differs.
    out.shots = { ...out.shots, reviews: await shot('reviews-without-the-agent') };
    step('the agent is not listed: nothing approved');
    return out;
  }
  await row().getByTestId('reason').fill(input.reason);
  await row().getByTestId('approve').click();
  await page.getByTestId('flash').waitFor();
  out.flash = (await page.getByTestId('flash').innerText()).trim();
  out.pendingAfter = await row().count();
  out.nothingPending = await page.getByTestId('nothing-pending').count();
  out.shots.reviews = await shot('reviews-after-approval');
  step('approved');

  // The same form, posted for the other district's agent with the session's CSRF token.
  const refused = await page.request.post(
    `${base}/api/campaigns/${encodeURIComponent(input.campaign)}/reviews/${encodeURIComponent(input.period)}/decisions`,
    { form: { csrf, agent: input.otherAgent, decision: 'approve', reason: input.reason }, maxRedirects: 0 });
  out.outOfScopeDecision = refused.status();
  step('decision outside the district refused');

  // Units: one of the district's communes, and the other district and its commune.
  out.units = {};
  for (const code of [input.ownCommune, ...input.otherUnits]) {
    const unitPath = `/campaigns/${encodeURIComponent(input.campaign)}/units/${encodeURIComponent(code)}`;
    const pageResp = await page.goto(`${base}${unitPath}`);
    const apiResp = await page.goto(`${base}/api${unitPath}`);
    let apiError = '';
    try {
      apiError = JSON.parse(await apiResp.text()).error || '';
    } catch { /* not JSON: the Go test says so by the empty error */ }
    out.units[code] = { page: pageResp.status(), api: apiResp.status(), apiError };
  }
  step('read the units');
  return out;
});
