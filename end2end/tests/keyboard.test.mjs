// The create page with the keyboard alone (desktop): every control is reached with Tab, the
// style is chosen with the arrow keys, the rights box with Space, focus is visible, and
// Ctrl+Enter submits. (The photo field is reached with Tab too; its file chooser is the
// operating system's, which a test cannot drive, so the file itself is set directly.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, sizes, signUp, BASE, SAMPLES, SHOTS } from '../support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Presses Tab until the focused element matches `selector`; fails after `max` presses. */
async function tabTo(page, selector, max = 120) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

test('create with the keyboard alone', { timeout: 240_000 }, async () => {
  const ctx = await browser.newContext(sizes[0][1]);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await signUp(page, BASE, 'keyboard');
  await page.waitForSelector('[data-testid=create-form]');
  await page.evaluate(() => document.activeElement?.blur());

  await tabTo(page, '[data-testid=photo]');
  await page.setInputFiles('[data-testid=photo]', path.join(SAMPLES, 'chelsea.png'));
  await tabTo(page, '[data-testid=rights]');
  await page.keyboard.press('Space');
  assert.equal(await page.isChecked('[data-testid=rights]'), true);

  // The styles are one radio group: Tab lands on the chosen one, the arrows move the choice.
  await tabTo(page, 'input[name=style]');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement.nextElementSibling).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible on the style tile');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.querySelector('input[name=style]:checked').value), '1');
  await page.waitForFunction(() => /Bold Outline/.test(document.querySelector('[data-testid=style-description]').textContent));

  await tabTo(page, '[data-testid=prompt]');
  await page.keyboard.type('Cat in bold outline');
  await page.screenshot({ path: path.join(SHOTS, 'keyboard-1-form.png'), fullPage: true });
  await Promise.all([page.waitForURL(/\/create\?job=/), page.keyboard.press('Control+Enter')]);
  const id = new URL(page.url()).searchParams.get('job');
  await page.waitForSelector(`li.job[data-job-id="${id}"][data-status=succeeded]`, { timeout: 180_000 });
  assert.match(await page.textContent(`li.job[data-job-id="${id}"]`), /Bold Outline/);
  assert.deepEqual(errors, [], 'no page errors');
  await ctx.close();
});
