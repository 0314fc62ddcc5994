// Templates in Debian's Chromium: a member chooses a text→image template on the create page
// (desktop and phone), writes a prompt, and gets a new image through the OpenAI stand-in
// (end2end/standin/openai.mjs), live and charged; the administrator adds a template in the
// editor, makes its preview by running it, and members see it with its preview and price; a
// member makes an image in the look of a second photo (any image as the style, two real
// photos) and runs it again from the item page (asked first, charged again).
// Needs a running server (scripts/e2e.sh starts one with the stand-in configured).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, sizes, hydrated, signUp, SHOTS, BASE, SAMPLES, STAFF_EMAIL as MOD_EMAIL, STAFF_PASSWORD as MOD_PASSWORD } from '../support.mjs';

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

  // Its preview is made by running it (the OpenAI stand-in paints the sample prompt).
  const row = page.locator(`tr[data-template="${id}"]`);
  await row.locator('summary').click();
  await row.locator('[data-testid=make-preview]').click();
  await page.waitForSelector('[data-testid=preview-made]', { timeout: 60_000 });
  const src = await page.getAttribute(`tr[data-template="${id}"] img.template-thumb`, 'src');
  assert.match(src, new RegExp(`^/template-previews/${id}-[0-9a-f]{16}\\.jpg$`));
  const preview = await fetch(`${BASE}${src}`);
  assert.equal(preview.headers.get('content-type'), 'image/jpeg');
  await shot('3-preview');

  // A style template saved from the console (its parameters name one style, which a run
  // turns into the generator's list): Night Gold keeping the photo's colours at 3.
  const colour = page.locator('tr[data-template="style-08-color"]');
  await colour.locator('details').evaluate((d) => { d.open = true; });
  await colour.locator('[data-testid=template-form] input[name=cost]').fill('3');
  await colour.locator('[data-testid=template-form] button[type=submit]').click();
  await page.waitForFunction(() => document.querySelector('tr[data-template="style-08-color"] [data-testid=template-cost]')?.textContent.trim() === '3');

  // A member's create page lists it, at its price.
  const mctx = await browser.newContext(sizes[1][1]);
  const member = await mctx.newPage();
  member.on('pageerror', (e) => errors.push(String(e)));
  await signUp(member, BASE, 'tpl-new');
  assert.equal(await member.getAttribute(`[data-template="${id}"] img`, 'src'), src, 'the chooser shows the new preview');
  await member.click(`[data-template="${id}"]`);
  await member.waitForSelector(`input[name=template][value="${id}"]`, { state: 'attached' });
  assert.match(await member.textContent('[data-testid=cost]'), /Cost: 3 credits\./);
  // Back to the default price, for the other tests.
  await colour.locator('details').evaluate((d) => { d.open = true; });
  await colour.locator('[data-testid=template-form] input[name=cost]').fill('');
  await colour.locator('[data-testid=template-form] button[type=submit]').click();
  await page.waitForFunction(() => document.querySelector('tr[data-template="style-08-color"] [data-testid=template-cost]')?.textContent.trim() === '5');
  assert.deepEqual(errors, [], 'no page errors');
  await mctx.close();
  await ctx.close();
});

for (const [name, options] of sizes) {
  test(`any image as the style, then Run again (${name})`, { timeout: 240_000 }, async () => {
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const shot = (step) => page.screenshot({ path: path.join(SHOTS, `any-style-${name}-${step}.png`), fullPage: true });

    await signUp(page, BASE, `anystyle-${name}`);
    await page.waitForSelector('[data-testid=create-form]');
    await page.setInputFiles('[data-testid=photo]', path.join(SAMPLES, 'chelsea.png'));
    await page.setInputFiles('[data-testid=style-photo]', path.join(SAMPLES, 'coffee.png'));
    await page.check('[data-testid=rights]');
    await shot('1-form');
    await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=submit]')]);
    await hydrated(page);
    await page.waitForSelector('li.job[data-status=succeeded]', { timeout: 180_000 });
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '45 credits');
    assert.match(await page.textContent('li.job'), /Own style image/);
    const first = await page.getAttribute('li.job', 'data-job-id');
    await shot('2-done');

    // The item page: Run again asks first, then makes a new generation, charged again.
    await page.goto(`${BASE}/gallery/${first}`);
    await hydrated(page);
    assert.equal(await page.isVisible('[data-testid=run-again-confirm]'), false, 'nothing runs before it is confirmed');
    await page.click('[data-testid=run-again] summary');
    assert.match(await page.textContent('[data-testid=run-again]'), /5 credits/);
    await shot('3-again');
    await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=run-again-confirm]')]);
    await hydrated(page);
    const second = new URL(page.url()).searchParams.get('job');
    assert.notEqual(second, first);
    await page.waitForSelector(`li.job[data-job-id="${second}"][data-status=succeeded]`, { timeout: 180_000 });
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '40 credits');
    assert.match(await page.textContent(`li.job[data-job-id="${second}"]`), /Own style image/, 'the same style image again');
    await shot('4-again-done');
    assert.deepEqual(errors, [], 'no page errors');
    await ctx.close();
  });
}
