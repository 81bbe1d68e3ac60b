// The coordinator's and the auditor's way through a running campaign, as the Go test
// (web/e2e/review_test.go) hands it: sign in, read the campaign page's figures, switch the
// language, approve a pending termination with a reason (after a refusal without one), read the
// agent's status and the agent's audit trail, then sign in as an auditor and look for forms.
// It returns what it saw; the Go test compares that with the report and the database.
import { run, value, signIn, loadTime, stepper } from './lib.mjs';

await run(async ({ page, context, input, shot }) => {
  const base = input.baseURL;
  const camp = `${base}/campaigns/${encodeURIComponent(input.campaign)}`;
  const out = { steps: [] };
  const step = stepper(out.steps);

  // Unauthenticated: the campaign page sends to the login form.
  await page.goto(camp);
  out.unauthenticatedPath = new URL(page.url()).pathname;

  await signIn(page, base, input.coordinator);
  step('signed in as coordinator');

  // The campaign page, from the list of campaigns, in the default language.
  await page.goto(`${base}/`);
  const listed = page.locator(`[data-testid="campaign-row"][data-campaign="${input.campaign}"]`);
  await Promise.all([
    page.waitForURL((u) => u.pathname === `/campaigns/${input.campaign}`),
    listed.locator(`a[href$="/campaigns/${input.campaign}"]`).first().click(),
  ]);
  await page.waitForLoadState('load');
  out.campaignLoadMs = await loadTime(page);
  out.lang = await page.locator('html').getAttribute('lang');
  out.status = await value(page.getByTestId('campaign-status'));
  out.labelVi = (await page.locator(input.labelSelector).innerText()).trim();
  out.city = {
    enrolled: await value(page.getByTestId('city-enrolled')),
    target: await value(page.getByTestId('city-target')),
    attainment: await value(page.getByTestId('city-attainment')),
    enrolledText: (await page.getByTestId('city-enrolled').innerText()).trim(),
  };
  out.districts = {};
  for (const row of await page.getByTestId('district-row').all()) {
    out.districts[await row.getAttribute('data-unit')] = {
      enrolled: await value(row.getByTestId('enrolled')),
      target: await value(row.getByTestId('target')),
    };
  }
  out.chart = await page.getByTestId('chart-enrolments').count();
  out.temporalLink = await page.getByTestId('temporal-link').getAttribute('href');
  out.shots = { campaign: await shot('campaign') };
  step('read the campaign page');

  // English by the switch, then back to Vietnamese.
  await Promise.all([page.waitForLoadState('load'), page.getByTestId('lang-en').click()]);
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  out.langAfterSwitch = await page.locator('html').getAttribute('lang');
  out.labelEn = (await page.locator(input.labelSelector).innerText()).trim();
  await page.getByTestId('lang-vi').click();
  await page.waitForFunction(() => document.documentElement.lang === 'vi');
  out.langBack = await page.locator('html').getAttribute('lang');
  step('switched the language');

  // The agent's status on the agents page, and its audit trail, before the decision.
  const agentPages = async (when) => {
    // The agents' table comes a page at a time: the agent's commune's page holds it.
    await page.goto(`${camp}/agents?commune=${encodeURIComponent(input.commune)}`);
    const status = page.locator(`[data-testid="agent-row"][data-agent="${input.agent}"]`).getByTestId('agent-status');
    const seen = { status: { value: await value(status), text: (await status.innerText()).trim() }, audit: [] };
    out.shots[`agents-${when}`] = await shot(`agents-${when}`);
    await page.goto(`${camp}/trace/agent/${encodeURIComponent(input.agent)}`);
    for (const r of await page.getByTestId('audit-row').all()) {
      seen.audit.push({ action: await r.getAttribute('data-action'), text: (await r.innerText()).trim() });
    }
    out.shots[`trace-${when}`] = await shot(`trace-${when}`);
    return seen;
  };
  out.before = await agentPages('before-approval');
  step('read the agents page and the trace before');

  // Reviews: a decision without a reason is refused in words; with one it is carried out.
  await page.goto(`${camp}/reviews`);
  const row = () => page.locator(
    `[data-testid="pending-row"][data-agent="${input.agent}"][data-period="${input.period}"]`);
  out.pendingBefore = await row().count();
  await row().getByTestId('reason').fill('');
  await row().getByTestId('approve').click();
  await page.getByTestId('error').waitFor();
  out.refusal = (await page.getByTestId('error').innerText()).trim();
  step('approval without a reason refused');

  await row().getByTestId('reason').fill(input.reason);
  await row().getByTestId('approve').click();
  await page.getByTestId('flash').waitFor();
  out.flash = (await page.getByTestId('flash').innerText()).trim();
  out.pendingAfter = await row().count();
  out.shots.reviews = await shot('reviews-after-approval');
  step('approved');

  // The agent's status on the agents page, and the decisions in its audit trail, after.
  out.after = await agentPages('after-approval');
  step('read the agents page and the trace after');

  // An auditor reads the same reviews page without any form.
  await context.clearCookies();
  await signIn(page, base, input.auditor);
  await page.goto(`${camp}/reviews`);
  out.auditor = {
    pendingRows: await page.getByTestId('pending-row').count(),
    approveButtons: await page.getByTestId('approve').count(),
    rejectButtons: await page.getByTestId('reject').count(),
    reasonInputs: await page.locator('[data-testid="pending-row"] textarea, [data-testid="pending-row"] form').count(),
  };
  out.shots.auditor = await shot('reviews-auditor');
  step('auditor sees no forms');
  return out;
});
