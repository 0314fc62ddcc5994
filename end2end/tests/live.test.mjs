// The live connection (SPEC §8), in Debian's Chromium at desktop and phone size: the server
// dies mid-job and comes back (banner states, catch-up, no event lost or doubled), the
// browser goes offline and online, the page idles into "Session paused" and resumes, and a
// session revoked server-side cannot be resumed. Each test runs its own server.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { launch, sizes, signUp, SHOTS, OUTBOX } from '../support.mjs';

const BIN = path.resolve(process.env.DARKROOM_BIN ?? '../target/debug/darkroom');
const MODELS = path.resolve(process.env.DARKROOM_MODELS_DIR ?? '../data/models');
const SAMPLES = process.env.DARKROOM_SAMPLES ?? path.join(MODELS, 'samples');
let port = 3150;
/** Servers this file started; whatever a failed test left running is stopped at the end. */
const running = new Set();
/** The servers of the test now running: a failing test prints the end of their logs. */
let current = [];

class Server {
  constructor(env = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'darkroom-live-'));
    const previews = path.resolve('../data/previews');
    if (fs.existsSync(previews)) fs.cpSync(previews, path.join(this.dir, 'previews'), { recursive: true });
    this.port = port++;
    this.base = `http://127.0.0.1:${this.port}`;
    this.log = path.join(this.dir, 'server.log');
    current.push(this);
    this.env = { ...process.env, DARKROOM_DATA_DIR: this.dir, DARKROOM_MODELS_DIR: MODELS,
      DARKROOM_ADDR: `127.0.0.1:${this.port}`, DARKROOM_JOB_LEASE_SECS: '2', DARKROOM_OUTBOX_DIR: OUTBOX,
      DARKROOM_SITE_ROOT: path.resolve(process.env.DARKROOM_SITE_ROOT ?? '../target/site'), ...env };
  }
  async start() {
    // Appended across restarts, so a failure shows both lives of a server.
    const log = fs.openSync(this.log, 'a');
    this.proc = spawn(BIN, ['serve'], { env: this.env, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    running.add(this.proc);
    let exited = false;
    this.proc.once('exit', () => { exited = true; running.delete(this.proc); });
    for (let i = 0; i < 200; i++) {
      // A server that could not start (its port taken) must not pass for whatever answers there.
      if (exited) throw new Error(`server exited while starting: see ${this.log}`);
      try { if ((await fetch(`${this.base}/readyz`)).ok && !exited) return; } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('server did not start');
  }
  async kill() {
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
  }
}

/** `test`, printing the end of its servers' logs when it fails. */
function test(name, options, fn) {
  return nodeTest(name, options, async (t) => {
    current = [];
    try {
      await fn(t);
    } catch (e) {
      for (const s of current) {
        const text = fs.existsSync(s.log) ? fs.readFileSync(s.log, 'utf8') : '';
        console.error(`--- ${s.base} log (last 80 lines) ---\n${text.split('\n').slice(-80).join('\n')}`);
      }
      throw e;
    }
  });
}

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  for (const p of running) p.kill('SIGKILL');
});

const state = (page) => page.getAttribute('[data-testid=conn]', 'data-state');
const bannerText = (page) => page.textContent('[data-testid=conn]');

/// Every event id the server holds after `after`, read with a fresh EventSource in the page.
async function serverIds(page, after) {
  return page.evaluate((after) => new Promise((resolve) => {
    const ids = [];
    const es = new EventSource(`/events?after=${after}`);
    for (const k of ['job', 'balance', 'snapshot']) es.addEventListener(k, (e) => ids.push(Number(e.lastEventId)));
    setTimeout(() => { es.close(); resolve(ids); }, 2500);
  }), after);
}

for (const [name, options] of sizes) {
  test(`server dies mid-job and comes back: banner states, catch-up, nothing lost or doubled (${name})`, { timeout: 180_000 }, async () => {
    const server = new Server();
    await server.start();
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    await signUp(page, server.base, name);
    await page.setInputFiles('[data-testid=photo]', path.join(SAMPLES, 'astronaut.png'));
    await page.check('[data-testid=rights]');
    // The page reads its list again after the submission; that read fails, as it does when
    // the server dies first (a race the test would otherwise win or lose by chance).
    const listRead = '**/api/list_jobs*';
    await page.route(listRead, (route) => route.abort());
    const listFailed = page.waitForEvent('requestfailed', (r) => r.url().includes('/api/list_jobs'));
    await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=submit]')]);
    await page.waitForSelector('body[data-hydrated="true"]');
    await listFailed;
    await page.unroute(listRead);
    assert.equal(await page.locator('li.job').count(), 0, 'the new job is not listed yet');
    const pageId = await page.evaluate(() => { window.__doc = Math.random(); return window.__doc; });
    // The stream must be open before the server dies (this test is about losing a live one).
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').dataset.state === 'open');

    await server.kill();
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').textContent
      .includes('Reconnecting… Trying to reconnect to the server. This usually takes a few seconds.'));
    await page.screenshot({ path: path.join(SHOTS, `live-${name}-1-reconnecting.png`) });
    await page.waitForFunction(() => /Still trying to reconnect\. Next attempt in \d+ seconds\./.test(
      document.querySelector('[data-testid=conn]').textContent), null, { timeout: 60_000 });
    assert.equal(await state(page), 'waiting');
    await page.screenshot({ path: path.join(SHOTS, `live-${name}-2-waiting.png`) });

    // "Retry now" while the server is still down: an attempt at once, which fails again.
    await page.click('[data-testid=conn] button:has-text("Retry now")');
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').textContent.includes('Reconnecting…'));

    await server.start();
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').dataset.state === 'open', null, { timeout: 60_000 });
    // The list read during the outage failed; the reconnection reads it again.
    await page.waitForSelector('li.job[data-status=succeeded]', { timeout: 120_000 });
    assert.equal(await page.evaluate(() => window.__doc), pageId, 'caught up without a reload');
    assert.equal((await page.textContent('[data-testid=balance]')).trim(), '45 credits');

    const startId = Number(await page.getAttribute('[data-testid=conn]', 'data-start-id'));
    const ids = await serverIds(page, startId);
    const received = Number(await page.getAttribute('[data-testid=conn]', 'data-received'));
    const lastId = Number(await page.getAttribute('[data-testid=conn]', 'data-last-id'));
    assert.ok(ids.length >= 3, `server kept the job's events: ${ids}`);
    assert.equal(received, ids.length, 'every event applied once: none missing, none twice');
    assert.equal(lastId, ids.at(-1));
    await page.screenshot({ path: path.join(SHOTS, `live-${name}-3-caught-up.png`) });
    await ctx.close();
    await server.kill();
  });

  test(`gives up after the limit, Retry brings it back (${name})`, { timeout: 90_000 }, async () => {
    const server = new Server({ DARKROOM_RECONNECT_GIVE_UP_SECS: '8' });
    await server.start();
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    await signUp(page, server.base, `lost-${name}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.dataset.state === 'open');
    await server.kill();
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').dataset.state === 'lost', null, { timeout: 60_000 });
    assert.match(await bannerText(page),
      /Connection lost\. We could not restore the server connection\. Check your internet connection and try again\./);
    await page.screenshot({ path: path.join(SHOTS, `live-${name}-7-lost.png`) });
    await server.start();
    await page.click('[data-testid=conn] button:has-text("Retry")');
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').dataset.state === 'open', null, { timeout: 30_000 });
    await ctx.close();
    await server.kill();
  });

  test(`offline and back online (${name})`, { timeout: 60_000 }, async () => {
    const server = new Server();
    await server.start();
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    await signUp(page, server.base, `off-${name}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.dataset.state === 'open');
    await page.goto(`${server.base}/create`);
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.dataset.state === 'open');
    assert.equal(await page.isDisabled('[data-testid=submit]'), false);
    await ctx.setOffline(true);
    // Offline is said as such, and Generate waits for the connection, saying why.
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').dataset.state === 'offline');
    assert.match(await bannerText(page), /You’re offline\./);
    assert.equal(await page.isDisabled('[data-testid=submit]'), true);
    assert.match(await page.textContent('[data-testid=submit-blocked]'), /generating needs a connection/);
    await page.screenshot({ path: path.join(SHOTS, `live-${name}-4-offline.png`) });
    await ctx.setOffline(false);
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').dataset.state === 'open', null, { timeout: 30_000 });
    assert.equal((await bannerText(page)).trim(), '');
    assert.equal(await page.isDisabled('[data-testid=submit]'), false, 'back online: Generate works again');
    await ctx.close();
    await server.kill();
  });

  test(`idle pauses, Resume works, a revoked session cannot resume (${name})`, { timeout: 60_000 }, async () => {
    const server = new Server({ DARKROOM_IDLE_LIMIT_SECS: '3' });
    await server.start();
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    await signUp(page, server.base, `idle-${name}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').textContent.includes('Session paused.'), null, { timeout: 20_000 });
    assert.match(await bannerText(page), /This page was inactive for too long\. Resume the session to continue\./);
    await page.screenshot({ path: path.join(SHOTS, `live-${name}-5-paused.png`) });
    await page.click('[data-testid=conn] button:has-text("Resume")');
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').dataset.state === 'open');

    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').dataset.state === 'paused', null, { timeout: 20_000 });
    // Revoke the session server-side: sign out with the same cookie from elsewhere.
    const cookies = await ctx.cookies();
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const out = await fetch(`${server.base}/api/sign_out`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    assert.ok(out.status < 400, `sign out: ${out.status}`);
    await page.click('[data-testid=conn] button:has-text("Resume")');
    await page.waitForFunction(() => document.querySelector('[data-testid=conn]').textContent.includes('Could not resume session.'));
    assert.match(await bannerText(page), /The server could not restore the current session\. Try resuming it again\./);
    assert.ok(await page.isVisible('[data-testid=conn] a:has-text("Sign in")'));
    await page.screenshot({ path: path.join(SHOTS, `live-${name}-6-resume-failed.png`) });
    await ctx.close();
    await server.kill();
  });
}

test('a queued job can be canceled; the refund shows live', { timeout: 60_000 }, async () => {
  const server = new Server({ DARKROOM_WORKERS: '0' });
  await server.start();
  const ctx = await browser.newContext(sizes[0][1]);
  const page = await ctx.newPage();
  await signUp(page, server.base, 'cancel');
  await page.setInputFiles('[data-testid=photo]', path.join(SAMPLES, 'chelsea.png'));
  await page.check('[data-testid=rights]');
  await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=submit]')]);
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal((await page.textContent('[data-testid=balance]')).trim(), '45 credits');
  await page.waitForSelector('li.job[data-status=queued]');
  await page.click('[data-testid=cancel]');
  await page.waitForSelector('li.job[data-status=canceled]');
  await page.waitForFunction(() => document.querySelector('[data-testid=balance]').textContent.trim() === '50 credits');
  await ctx.close();
  await server.kill();
});
