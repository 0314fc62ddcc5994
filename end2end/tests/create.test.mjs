// The main job, end to end, in Debian's Chromium at desktop and phone size: sign up, upload a
// real photo (drag-and-drop on desktop, file picker on the phone), pick styles, see the cost,
// submit, watch it develop live (no reload), open it in the gallery, download, delete.
// Needs a running server (scripts/e2e.sh starts one) and the sample photos.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, sizes, hydrated, signUp, SHOTS, BASE, SAMPLES } from '../support.mjs';


let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const [name, options] of sizes) {
  test(`photo in, styled result out, live and charged (${name})`, { timeout: 240_000 }, async () => {
    const ctx = await browser.newContext({ ...options, acceptDownloads: true });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const shot = (step) => page.screenshot({ path: path.join(SHOTS, `${name}-${step}.png`), fullPage: true });

    await signUp(page, BASE, name, () => shot('1-signup'));
    await page.waitForSelector('[data-testid=create-form]');
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '50 credits');
    if (name === 'phone') {
      // The header folds into a menu of 44 px rows; the balance stays in view; nothing is
      // wider than the screen.
      assert.equal(await page.isVisible('header a[href="/gallery"]'), false, 'folded');
      assert.equal(await page.isVisible('[data-testid=balance]'), true);
      await page.click('[data-testid=menu-button]');
      const row = await page.locator('header a[href="/gallery"]').boundingBox();
      assert.ok(row && row.height >= 44, `a menu row is ${row?.height} px`);
      await shot('1-menu');
      await page.click('[data-testid=menu-button]');
      assert.equal(await page.isVisible('header a[href="/gallery"]'), false, 'folded again');
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no sideways scrolling');
    }
    assert.match(await page.textContent('[data-testid=cost]'), /Cost: 5 credits\..*not refunded/s);

    // The style picker shows previews the engine rendered.
    const previews = await page.$$eval('.style-tile img', (imgs) => imgs.length);
    assert.equal(previews, 26);

    // Upload a real photo.
    const photo = path.join(SAMPLES, 'astronaut.png');
    if (name === 'desktop') {
      const b64 = fs.readFileSync(photo).toString('base64');
      const dt = await page.evaluateHandle((b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'astronaut.png', { type: 'image/png' }));
        return dt;
      }, b64);
      await page.dispatchEvent('.dropzone', 'drop', { dataTransfer: dt });
      await page.selectOption('[data-testid=blend-with]', { label: 'Soft Pastel' });
    } else {
      // Pasted (Ctrl/⌘+V of an image anywhere on the page).
      const b64 = fs.readFileSync(photo).toString('base64');
      await page.evaluate((b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'astronaut.png', { type: 'image/png' }));
        document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }, b64);
      await page.check('[data-testid=preserve-color]');
    }
    await page.waitForFunction(() => document.querySelector('[data-testid=photo-name]')?.textContent === 'astronaut.png');
    // The photo shows as a thumbnail, and the form holds it.
    await page.waitForFunction(() => document.querySelector('[data-testid=photo-thumb]')?.naturalWidth > 0);
    assert.equal(await page.$eval('[data-testid=photo]', (i) => i.files.length), 1);
    await page.click('label.style-tile:has-text("Night Gold")');
    // Named styles, with a line on each; a free preview of the choice on the member's photo.
    await page.waitForFunction(() => /Night Gold — Black, gold and red/.test(document.querySelector('[data-testid=style-description]').textContent));
    await page.click('[data-testid=preview-button]');
    await page.waitForFunction(() => document.querySelector('[data-testid=style-preview] img')?.naturalWidth > 0);
    assert.equal(await page.$eval('[data-testid=style-preview] img', (i) => Math.max(i.naturalWidth, i.naturalHeight)), 320);
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '50 credits', 'the preview is free');
    await page.$eval('[data-testid=strength]', (el) => { el.value = '85'; });
    await page.check('[data-testid=rights]');
    await shot('2-form');

    // Submit (a click, or Ctrl+Enter on the phone), then watch it live: the page is not
    // reloaded, the settings stay, the new job's card is on screen at the top of the history.
    await page.fill('[data-testid=prompt]', `Astronaut ${name}`);
    await page.evaluate(() => { window.__sameDocument = true; window.__seen = []; });
    if (name === 'desktop') {
      await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=submit]')]);
    } else {
      await page.focus('[data-testid=prompt]');
      await Promise.all([page.waitForURL(/\/create\?job=/), page.keyboard.press('Control+Enter')]);
    }
    const id = new URL(page.url()).searchParams.get('job');
    assert.match(await (await page.waitForSelector('[data-testid=toast]')).textContent(), /Started/, 'a toast says what happened');
    await page.waitForSelector(`li.job[data-job-id="${id}"]`);
    assert.equal(await page.$eval('li.job', (li) => li.dataset.jobId), id, 'the new job first');
    await page.waitForFunction((id) => {
      const r = document.querySelector(`li.job[data-job-id="${id}"]`).getBoundingClientRect();
      return r.top >= 0 && r.top < innerHeight;
    }, id);
    assert.equal(await page.inputValue('[data-testid=prompt]'), `Astronaut ${name}`, 'the prompt is kept');
    assert.equal(await page.isChecked('[data-testid=rights]'), true, 'the rights box is kept');
    assert.equal(await page.$eval('[data-testid=photo]', (i) => i.files.length), 1, 'the photo is kept');
    assert.equal(await page.isChecked('label.style-tile:has-text("Night Gold") input'), true, 'the style is kept');
    await shot('2-submitted');
    await page.evaluate(() => {
      const li = document.querySelector('li.job');
      const seen = () => window.__seen.push(li.getAttribute('data-status'));
      seen();
      new MutationObserver(seen).observe(li, { attributes: true, attributeFilter: ['data-status'] });
    });
    await page.waitForSelector('li.job[data-status=succeeded]', { timeout: 180_000 }).catch(async (e) => {
      // Diagnostics for a rare flake: what the live connection looked like when it timed out.
      const conn = await page.$eval('[data-testid=conn]', (el) => ({ ...el.dataset, text: el.textContent })).catch(() => null);
      console.log('live connection at timeout:', JSON.stringify(conn));
      await shot('x-timeout');
      throw e;
    });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'updated without a reload');
    const seen = await page.evaluate(() => window.__seen);
    assert.equal(seen.at(-1), 'succeeded');
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '45 credits');
    // The result opens in place.
    await page.waitForFunction(() => document.querySelector('li.job [data-testid=job-result]')?.naturalWidth > 0);
    await shot('3-done');
    // Iterate: another style, submitted again from the same form; a second job, a second charge.
    await page.click('label.style-tile:has-text("Charcoal Wash")');
    await Promise.all([page.waitForURL((u) => u.searchParams.get('job') && u.searchParams.get('job') !== id), page.click('[data-testid=submit]')]);
    const second = new URL(page.url()).searchParams.get('job');
    await page.waitForSelector(`li.job[data-job-id="${second}"][data-status=succeeded]`, { timeout: 180_000 });
    assert.equal(await page.$eval('li.job', (li) => li.dataset.jobId), second);
    assert.equal(await page.$$eval('li.job', (l) => l.length), 2);
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '40 credits');
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'still without a reload');

    // My gallery (private), the item at full size, download, delete.
    await page.goto(`${BASE}/gallery`);
    await hydrated(page);
    assert.equal(await page.$$eval('[data-testid=gallery] li', (l) => l.length), 2);
    assert.match(await page.textContent('main'), /Private: only you can see these/);
    await shot('4-gallery');
    await page.click(`[data-testid=gallery] li[data-job-id="${id}"] a`);
    await page.waitForSelector('img[data-testid=result]');
    // A rendition from the srcset (WebP where the browser takes it), loaded and never wider
    // than the 512-pixel result.
    await page.waitForFunction(() => {
      const img = document.querySelector('img[data-testid=result]');
      return img.complete && img.naturalWidth > 0;
    });
    // (naturalWidth is density-corrected by `sizes`: decode the file itself for its pixels.)
    const shown = await page.$eval('img[data-testid=result]', async (img) => {
      const bitmap = await createImageBitmap(await (await fetch(img.currentSrc)).blob());
      return { src: img.currentSrc, width: bitmap.width };
    });
    assert.match(shown.src, /\/media\/[0-9a-f-]+\/w(256|512)\.(webp|jpg)$/, shown.src);
    assert.ok(shown.width === 256 || shown.width === 512, `width ${shown.width}`);
    assert.match(await page.textContent('main'), /AI-generated/);
    await shot('5-item');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download]')]);
    assert.match(download.suggestedFilename(), /^darkroom-.*\.png$/);
    const file = await download.path();
    assert.ok(fs.statSync(file).size > 10_000, 'downloaded a real PNG');
    const [webp] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-webp]')]);
    assert.match(webp.suggestedFilename(), /^darkroom-.*\.webp$/);
    // Full size over the page, closed by a click.
    await page.click('[data-testid=zoom]');
    await page.waitForSelector('[data-testid=lightbox] img');
    await page.waitForFunction(() => document.querySelector('[data-testid=lightbox] img').naturalWidth === 512);
    await shot('5-zoom');
    await page.click('[data-testid=lightbox]');
    await page.waitForSelector('[data-testid=lightbox]', { state: 'detached' });
    // Before/after against the photo: the slider moves the split.
    await page.click('[data-testid=compare-open] summary');
    await page.waitForSelector('[data-testid=compare]', { state: 'visible' });
    await page.$eval('[data-testid=compare]', (el) => {
      el.value = '20';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    // The split is where the slider is: the photo's visible part ends at 20% of the frame
    // (the page's CSP allows no inline style attribute, so this is the stylesheet applying it).
    const clip = await page.$eval('[data-testid=before-after] img.before', (i) => getComputedStyle(i).clipPath);
    assert.match(clip, /inset\(0px (calc\(80%\)|80%) 0px 0px\)/, clip);
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=before-after] img')].every((i) => i.complete && i.naturalWidth > 0));
    await shot('5-compare');
    // Delete asks first.
    await page.click('[data-testid=delete]');
    await page.waitForSelector('[data-testid=delete-confirm]', { state: 'visible' });
    assert.match(new URL(page.url()).pathname, /^\/gallery\/[0-9a-f-]+$/, 'nothing deleted yet: still on the item');
    await Promise.all([page.waitForURL('**/gallery'), page.click('[data-testid=delete-confirm]')]);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=gallery] li').length === 1);
    assert.equal(await page.$(`[data-testid=gallery] li[data-job-id="${id}"]`), null, 'the deleted one is gone');
    await shot('6-deleted');

    assert.deepEqual(errors, [], 'no page errors');
    await ctx.close();
  });
}
