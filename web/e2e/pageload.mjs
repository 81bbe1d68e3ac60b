// Page load times: signs in, then opens input.path input.loads times (after one load that
// warms the browser's cache of the static assets) and reports each load's times from the
// browser's Navigation Timing: the server's answer (request start to the first byte of the
// response) and the whole load (navigation start to the load event), in milliseconds.
import { run } from './lib.mjs';

await run(async ({ page, input, shot }) => {
  await page.goto(`${input.baseURL}/login`);
  await page.locator('input[name="user"]').fill(input.user);
  await page.locator('input[name="password"]').fill(input.password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByTestId('login-submit').click(),
  ]);
  const url = `${input.baseURL}${input.path}`;
  await page.goto(url);
  const loads = [];
  for (let i = 0; i < input.loads; i++) {
    await page.goto(url, { waitUntil: 'load', timeout: 120000 });
    loads.push(await page.evaluate(() => {
      const [n] = performance.getEntriesByType('navigation');
      return { serverMs: n.responseStart - n.requestStart, loadMs: n.loadEventEnd - n.startTime, bytes: n.transferSize };
    }));
  }
  await shot(input.shot || 'page');
  return { loads };
});
