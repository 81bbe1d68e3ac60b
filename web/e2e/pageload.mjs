// Page load times: signs in, then opens input.path input.loads times (after one load that
// warms the browser's cache of the static assets) and reports each load's times from the
// browser's Navigation Timing: the server's answer (request start to the first byte of the
// response) and the whole load (navigation start to the load event), in milliseconds.
import { run, signIn } from './lib.mjs';

await run(async ({ page, input, shot }) => {
  await signIn(page, input.baseURL, input);
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
