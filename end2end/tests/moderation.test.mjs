// Moderation end to end in Debian's Chromium: a blocked prompt shows its category and that
// credits are not refunded; a job held for review is rejected by a moderator in another
// browser, and the member's page changes live, without a reload. The moderator account is
// made by `darkroom create-admin` in scripts/e2e.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, sizes, hydrated, signUp, SHOTS, BASE, SAMPLES, STAFF_EMAIL as MOD_EMAIL, STAFF_PASSWORD as MOD_PASSWORD } from '../support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Submits the create form with a photo and a prompt; returns the new job's id. */
async function submit(page, prompt) {
  await page.setInputFiles('[data-testid=photo]', path.join(SAMPLES, 'coffee.png'));
  await page.fill('[data-testid=prompt]', prompt);
  await page.check('[data-testid=rights]');
  // The page stays (the form is sent in place); the address names the new job.
  const before = new URL(page.url()).searchParams.get('job');
  await Promise.all([page.waitForURL((u) => u.searchParams.get('job') && u.searchParams.get('job') !== before), page.click('[data-testid=submit]')]);
  await hydrated(page);
  return new URL(page.url()).searchParams.get('job');
}

for (const [name, options] of sizes) {
  test(`blocked prompt, then a moderator rejects a held job live (${name})`, { timeout: 180_000 }, async () => {
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const shot = (p, step) => p.screenshot({ path: path.join(SHOTS, `${name}-moderation-${step}.png`), fullPage: true });
    await signUp(page, BASE, `mod-${name}`);
    assert.match(await page.textContent('[data-testid=cost]'), /moderation rejects.*not refunded/s, 'said before submit');

    // A prohibited prompt: rejected at once with the category, charged, not refunded.
    const blocked = await submit(page, 'n.u.d.e woman on a bed');
    const card = `li.job[data-job-id="${blocked}"]`;
    await page.waitForSelector(`${card}[data-status=rejected]`);
    const text = await page.textContent(card);
    assert.match(text, /Rejected by moderation/);
    assert.match(text, /sexual content/);
    assert.match(text, /not refunded/);
    assert.doesNotMatch(text, /nude/i, 'the member sees the category, not the rule');
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '45 credits');
    await shot(page, '1-blocked');

    // A prompt the policy sends to review: the job waits.
    const held = await submit(page, 'a corpse in the fog');
    const heldCard = `li.job[data-job-id="${held}"]`;
    await page.waitForSelector(`${heldCard}[data-status=review]`);
    await page.evaluate(() => { window.__sameDocument = true; });
    await shot(page, '2-held');

    // The moderator, in another browser, rejects it from the queue.
    const mctx = await browser.newContext(options);
    const mod = await mctx.newPage();
    mod.on('pageerror', (e) => errors.push(String(e)));
    await mod.goto(`${BASE}/signin`);
    await hydrated(mod);
    await mod.fill('input[name=email]', MOD_EMAIL);
    await mod.fill('input[name=password]', MOD_PASSWORD);
    await Promise.all([mod.waitForURL('**/create'), mod.click('button[type=submit]')]);
    await mod.goto(`${BASE}/moderation?kind=review`);
    await hydrated(mod);
    const item = `[data-testid=queue-item][data-job-id="${held}"]`;
    await mod.waitForSelector(item);
    assert.match(await mod.textContent(item), /a corpse in the fog/);
    assert.match(await mod.textContent(item), /blocklist "corpse"/);
    await shot(mod, '3-queue');
    await mod.selectOption(`${item} select[name=category]`, 'violence');
    await mod.fill(`${item} [data-testid=reason]`, 'graphic violence');
    if (name === 'desktop') {
      // One key: `r` rejects the first item (ours: the queue is oldest first and nothing
      // else waits), once focus has left the text field.
      assert.equal(await mod.getAttribute('[data-testid=queue-item]', 'data-job-id'), held);
      await mod.click('h1');
      await mod.keyboard.press('r');
    } else {
      await mod.click(`${item} [data-testid=reject]`);
    }
    await mod.waitForSelector(item, { state: 'detached' });

    // The member's page updates live.
    await page.waitForSelector(`${heldCard}[data-status=rejected]`, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
    assert.match(await page.textContent(heldCard), /violence/);
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '40 credits', 'no refund');
    await shot(page, '4-rejected-live');

    // The strikes show in settings.
    await page.goto(`${BASE}/settings`);
    await hydrated(page);
    assert.match(await page.textContent('[data-testid=strikes]'), /violence/);
    await shot(page, '5-settings');
    assert.deepEqual(errors, [], 'no page errors');
    await mctx.close();
    await ctx.close();
  });
}
