// Image→video in Debian's Chromium at desktop and phone size: pick the "Photo to video"
// template, upload a real photo, choose the camera move and length (the price follows it),
// watch it develop live, play it on the item page (the player's time advances), and open a
// share link signed out: the visitor gets the player too. Then video→video: a clip made here by
// ffmpeg from a real photo, restyled, played.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { launch, sizes, hydrated, signUp, SHOTS, BASE, SAMPLES } from '../support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Waits until the page's result player has played past `secs` seconds. */
async function plays(page, secs) {
  await page.waitForSelector('[data-testid=result-video]');
  await page.$eval('[data-testid=result-video]', (v) => { v.muted = true; return v.play(); });
  await page.waitForFunction((s) => document.querySelector('[data-testid=result-video]').currentTime > s, secs, { timeout: 20_000 });
  return page.$eval('[data-testid=result-video]', (v) => ({ w: v.videoWidth, h: v.videoHeight, duration: v.duration }));
}

for (const [name, options] of sizes) {
  test(`photo to video, live, played, shared (${name})`, { timeout: 300_000 }, async () => {
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const shot = (p, step) => p.screenshot({ path: path.join(SHOTS, `${name}-video-${step}.png`), fullPage: true });

    await signUp(page, BASE, `video-${name}`);
    await page.goto(`${BASE}/create?template=photo-to-video`);
    await hydrated(page);
    await page.waitForSelector('[data-testid=clip-fields]');
    // Priced per second: 1 credit × 4 s by default, 3 when the length is 3 s.
    assert.match(await page.textContent('[data-testid=cost]'), /Cost: 4 credits\..*1 per second/s);
    await page.fill('[data-testid=seconds]', '3');
    await page.waitForFunction(() => /Cost: 3 credits/.test(document.querySelector('[data-testid=cost]').textContent));
    assert.match(await page.textContent('[data-testid=submit]'), /3 credits/);
    await page.selectOption('[data-testid=camera]', name === 'desktop' ? 'zoom_out' : 'pan_right');
    await page.selectOption('[data-testid=clip-style]', { label: 'Autumn Oil' });
    await page.setInputFiles('[data-testid=photo]', path.join(SAMPLES, 'chelsea.png'));
    await page.check('[data-testid=rights]');
    await shot(page, '1-form');

    await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=submit]')]);
    const id = new URL(page.url()).searchParams.get('job');
    await hydrated(page);
    // Live progress: the card's percentage moves while the frames are made, without a reload.
    await page.evaluate(() => { window.__sameDocument = true; });
    await page.waitForSelector(`li.job[data-job-id="${id}"][data-status=succeeded]`, { timeout: 240_000 });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'updated without a reload');
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '47 credits');

    // The item page plays the clip.
    await page.goto(`${BASE}/gallery/${id}`);
    await hydrated(page);
    const played = await plays(page, 0.5);
    assert.ok(played.w > 0 && played.h > 0, JSON.stringify(played));
    assert.ok(Math.abs(played.duration - 3) < 0.1, `3 seconds long: ${played.duration}`);
    await shot(page, '2-item');

    // A share link, opened signed out: the player again.
    await page.click('[data-testid=link-create]');
    const link = await (await page.waitForSelector('[data-testid=new-link]')).inputValue();
    const anon = await browser.newContext(options);
    const visitor = await anon.newPage();
    visitor.on('pageerror', (e) => errors.push('visitor: ' + String(e)));
    await visitor.goto(link);
    await hydrated(visitor);
    await plays(visitor, 0.5);
    assert.match(await visitor.textContent('main'), /AI-generated/);
    await shot(visitor, '3-shared');

    assert.deepEqual(errors, [], 'no page errors');
    await anon.close();
    await ctx.close();
  });
}

for (const [name, options] of sizes) {
  test(`video restyled, played (${name})`, { timeout: 300_000 }, async () => {
    // 2 s at 12 fps from a sample photo, with a sound track (which the upload drops).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'darkroom-e2e-'));
    const clip = path.join(dir, 'kitchen.mp4');
    execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-loop', '1', '-framerate', '12', '-t', '2', '-i', path.join(SAMPLES, 'coffee.png'),
      '-f', 'lavfi', '-t', '2', '-i', 'sine', '-vf', 'scale=320:240', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip]);
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await signUp(page, BASE, `restyle-${name}`);
    await page.goto(`${BASE}/create?template=video-restyle`);
    await hydrated(page);
    await page.waitForSelector('[data-testid=restyle-fields]');
    assert.match(await page.textContent('[data-testid=cost]'), /1 credits per second of your clip/);
    assert.equal(await page.getAttribute('[data-testid=photo]', 'accept'), 'video/mp4,video/webm');
    await page.selectOption('[data-testid=clip-style]', { label: 'Stained Glass' });
    await page.setInputFiles('[data-testid=photo]', clip);
    await page.check('[data-testid=rights]');
    await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=submit]')]);
    const id = new URL(page.url()).searchParams.get('job');
    await page.waitForSelector(`li.job[data-job-id="${id}"][data-status=succeeded]`, { timeout: 240_000 });
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '48 credits', 'charged per second of the clip');
    await page.goto(`${BASE}/gallery/${id}`);
    await hydrated(page);
    const played = await plays(page, 0.3);
    assert.ok(Math.abs(played.duration - 2) < 0.1, `as long as the clip: ${played.duration}`);
    assert.equal(played.w, 320);
    await page.screenshot({ path: path.join(SHOTS, `${name}-video-4-restyled.png`), fullPage: true });
    assert.deepEqual(errors, [], 'no page errors');
    await ctx.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
