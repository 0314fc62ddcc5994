// Templates in Debian's Chromium: a member chooses a text→image template on the create page
// (desktop and phone), writes a prompt, and gets a new image through the OpenAI stand-in
// (end2end/standin/openai.mjs), live and charged; the administrator adds a template in the
// editor, and members see it with its price.
// Needs a running server (scripts/e2e.sh starts one with the stand-in configured).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, sizes, hydrated, signUp, SHOTS, BASE } from '../support.mjs';

const MOD_EMAIL = process.env.DARKROOM_E2E_MOD_EMAIL ?? 'moderator@example.com';
const MOD_PASSWORD = process.env.DARKROOM_E2E_MOD_PASSWORD ?? 'moderator password 1';
const OPENAI = process.env.DARKROOM_E2E_OPENAI_URL ?? 'http://127.0.0.1:3102';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const [name, options] of sizes) {
  test(`a text→image template through a provider (${name})`, { timeout: 180_000 }, async () => {
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const shot = (step) => page.screenshot({ path: path.join(SHOTS, `templates-${name}-${step}.png`), fullPage: true });

    await signUp(page, BASE, `tpl-${name}`);
    await page.waitForSelector('[data-testid=template-chooser]');
    await page.click('[data-testid=template-chooser] [data-template=openai-image]');
    await page.waitForSelector('input[name=template][value=openai-image]', { state: 'attached' });
    assert.equal(await page.$('[data-testid=create-form] input[name=photo]'), null, 'text→image asks for no photo');
    assert.match(await page.textContent('[data-testid=cost]'), /Cost: 5 credits\./);
    const prompt = `a lighthouse on a cliff, ${name}`;
    await page.fill('[data-testid=prompt]', prompt);
    await shot('1-form');
    await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=submit]')]);
    await hydrated(page);
    await page.waitForSelector('li.job[data-status=succeeded]', { timeout: 120_000 });
    await page.waitForSelector('li.job img');
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '45 credits');
    await shot('2-done');
    const sent = await (await fetch(`${OPENAI}/__requests`)).json();
    assert.ok(sent.some((r) => r.body.prompt === prompt), 'the prompt reached the provider');
    assert.deepEqual(errors, [], 'no page errors');
    await ctx.close();
  });
}

test('the administrator adds a template; members see it with its price', { timeout: 120_000 }, async () => {
  const ctx = await browser.newContext(sizes[0][1]);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const shot = (step) => page.screenshot({ path: path.join(SHOTS, `templates-admin-${step}.png`), fullPage: true });
  await page.goto(`${BASE}/signin`);
  await hydrated(page);
  await page.fill('input[name=email]', MOD_EMAIL);
  await page.fill('input[name=password]', MOD_PASSWORD);
  await Promise.all([page.waitForURL('**/create'), page.click('button[type=submit]')]);
  await page.goto(`${BASE}/admin/templates`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=templates] tr[data-template=style-01]');
  assert.equal(await page.getAttribute('tr[data-template=gemini-image]', 'data-state'), 'unavailable', 'no Gemini key here');
  const id = `harbour-${Date.now()}`;
  const form = page.locator('[data-testid=template-form]').last();
  await form.locator('input[name=id]').fill(id);
  await form.locator('input[name=name]').fill('Harbour at night');
  await form.locator('textarea[name=description]').fill('Your words, at a harbour at night.');
  await form.locator('select[name=mode]').selectOption('text_to_image');
  await form.locator('input[name=generator]').fill('openai');
  await form.locator('textarea[name=prompt_template]').fill('{prompt}, at a harbour at night');
  await form.locator('input[name=cost]').fill('3');
  await shot('1-form');
  await form.locator('button[type=submit]').click();
  await page.waitForSelector('[data-testid=template-saved]');
  await page.waitForSelector(`tr[data-template="${id}"]`);
  assert.equal((await page.textContent(`tr[data-template="${id}"] [data-testid=template-cost]`)).trim(), '3');
  assert.equal((await page.textContent(`tr[data-template="${id}"] [data-testid=template-uses]`)).trim(), '0');
  await shot('2-saved');

  // A member's create page lists it, at its price.
  const mctx = await browser.newContext(sizes[1][1]);
  const member = await mctx.newPage();
  member.on('pageerror', (e) => errors.push(String(e)));
  await signUp(member, BASE, 'tpl-new');
  await member.click(`[data-template="${id}"]`);
  await member.waitForSelector(`input[name=template][value="${id}"]`, { state: 'attached' });
  assert.match(await member.textContent('[data-testid=cost]'), /Cost: 3 credits\./);
  assert.deepEqual(errors, [], 'no page errors');
  await mctx.close();
  await ctx.close();
});
