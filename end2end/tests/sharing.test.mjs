// Sharing end to end in Debian's Chromium, desktop and phone: make an item public and find
// it in Explore from a signed-out browser; make a share link, open it signed out; revoke it
// and see the not-found page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, sizes, hydrated, signUp, SHOTS, BASE, SAMPLES } from '../support.mjs';


let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const [name, options] of sizes) {
  test(`public in Explore, share link opened signed out, revoked (${name})`, { timeout: 240_000 }, async () => {
    const ctx = await browser.newContext(options);
    // Headless Chromium has no share sheet: on the phone a stand-in for `navigator.share`
    // records what the page hands it (the Web Share API's ShareData).
    if (name === 'phone') await ctx.addInitScript(() => { navigator.share = async (data) => { window.__shared = data; }; });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push('owner: ' + String(e)));
    page.on('console', (m) => { if (m.type() === 'error') console.log('owner console:', page.url(), m.text()); });
    const shot = (p, step) => p.screenshot({ path: path.join(SHOTS, `${name}-sharing-${step}.png`), fullPage: true });
    await signUp(page, BASE, `share-${name}`);
    const title = `Harbour study ${name} ${Date.now()}`;
    await page.setInputFiles('[data-testid=photo]', path.join(SAMPLES, 'chelsea.png'));
    await page.fill('[data-testid=prompt]', title);
    await page.check('[data-testid=rights]');
    await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=submit]')]);
    const id = new URL(page.url()).searchParams.get('job');
    await page.waitForSelector(`li.job[data-job-id="${id}"][data-status=succeeded]`, { timeout: 180_000 });

    // The item page: private by default; make it public.
    await page.goto(`${BASE}/gallery/${id}`);
    await hydrated(page);
    assert.equal(await page.$eval('[data-testid=visibility]', (s) => s.value), 'private');
    await page.selectOption('[data-testid=visibility]', 'public');
    // The first public item: the notice that AI output may be inaccurate, confirmed once.
    await page.check('[data-testid=publish-reviewed]');
    await page.click('[data-testid=visibility-save]');
    await page.waitForSelector('[data-testid=public-link]');
    assert.equal(await page.$('[data-testid=publish-review]'), null, 'asked once');
    await shot(page, '1-public');

    // Signed out: Explore lists it; its public page shows it.
    const anon = await browser.newContext(options);
    const visitor = await anon.newPage();
    visitor.on('pageerror', (e) => errors.push('visitor: ' + String(e)));
    visitor.on('console', (m) => { if (m.type() === 'error') console.log('visitor console:', m.text()); });
    await visitor.goto(`${BASE}/explore`);
    await hydrated(visitor);
    await visitor.waitForSelector(`[data-testid=explore] li[data-job-id="${id}"]`);
    await shot(visitor, '2-explore');
    await visitor.click(`[data-testid=explore] li[data-job-id="${id}"] a`);
    await visitor.waitForSelector('[data-testid=shared-image]');
    assert.equal(await visitor.textContent('h1'), title);
    await visitor.waitForFunction(() => document.querySelector('[data-testid=shared-image]').naturalWidth > 0);
    await shot(visitor, '3-public-page');

    // A share link, opened signed out.
    await page.click('[data-testid=link-create]');
    const made = await page.waitForSelector('[data-testid=new-link]').catch(async (e) => { await shot(page, 'x-no-link'); throw e; });
    const link = await made.inputValue();
    assert.match(link, /\/s\/[0-9a-f]{32}$/);
    // Copy puts the link on the clipboard and says so.
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    await page.click('[data-testid=copy-link]');
    await page.waitForFunction(() => /Copied/.test(document.querySelector('[data-testid=copy-link]').textContent));
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
    if (name === 'phone') {
      await page.click('[data-testid=share-system]');
      assert.deepEqual(await page.evaluate(() => ({ url: window.__shared?.url, title: window.__shared?.title })), { url: link, title });
    } else {
      assert.equal(await page.$('[data-testid=share-system]'), null, 'no share sheet, no button');
    }
    const opened = await visitor.goto(link);
    await hydrated(visitor);
    await visitor.waitForFunction(() => document.querySelector('[data-testid=shared-image]')?.naturalWidth > 0).catch(async (e) => {
      // Diagnostics for a failure seen once in CI: what the visitor had on screen.
      const img = await visitor.$eval('[data-testid=shared-image]', (i) => ({ src: i.currentSrc, complete: i.complete, w: i.naturalWidth })).catch(() => null);
      console.log('share page:', opened.status(), JSON.stringify(img), (await visitor.textContent('main').catch(() => '')).slice(0, 300));
      await shot(visitor, 'x-share-link');
      throw e;
    });
    assert.match(await visitor.textContent('main'), /AI-generated/);
    await shot(visitor, '4-share-link');

    // Revoked: the link answers 404 with the not-found page.
    await page.reload();
    await hydrated(page);
    await page.click('[data-testid=link-revoke]');
    await page.waitForFunction(() => /revoked/.test(document.querySelector('[data-testid=links]')?.textContent ?? ''));
    const resp = await visitor.goto(link);
    assert.equal(resp.status(), 404);
    await visitor.waitForSelector('text=Not found');
    await shot(visitor, '5-revoked');
    assert.deepEqual(errors, [], 'no page errors');
    await anon.close();
    await ctx.close();
  });
}
