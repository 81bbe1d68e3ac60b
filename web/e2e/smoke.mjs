// A check of the runner itself: opens input.url, reports the text and data-value of the
// element input.testid, and saves a screenshot.
import { run } from './lib.mjs';

await run(async ({ page, input, shot }) => {
  await page.goto(input.url);
  const el = page.getByTestId(input.testid);
  const out = { text: await el.innerText(), value: await el.getAttribute('data-value') };
  await shot('smoke');
  return out;
});
