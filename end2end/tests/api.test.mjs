// The API for integrators end to end: a key made on the keys page in Debian's Chromium (the
// secret shown once), then OpenAI's official Node SDK against this server with only the base
// URL changed, the OpenAPI document through a validator from npm, the request log on the
// page, and a revoked key refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import { Validator } from '@seriousme/openapi-schema-validator';
import { launch, hydrated, signUp, SHOTS, BASE, SAMPLES } from '../support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the OpenAPI document validates as OpenAPI 3.1', async () => {
  const doc = await (await fetch(`${BASE}/api/v1/openapi.json`)).json();
  assert.match(doc.openapi, /^3\.1\./);
  const validator = new Validator();
  const result = await validator.validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  assert.equal(validator.version, '3.1');
});

test('a key from the keys page drives the OpenAI SDK; revoked, it stops', { timeout: 300_000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const shot = (step) => page.screenshot({ path: path.join(SHOTS, `desktop-api-${step}.png`), fullPage: true });
  await signUp(page, BASE, 'api');
  await page.goto(`${BASE}/settings/api`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=no-keys]');
  await page.fill('[data-testid=key-name]', 'SDK test');
  await page.check('[data-testid=key-rights]');
  await page.click('[data-testid=key-create]');
  const secretBox = await page.waitForSelector('[data-testid=new-key-secret]');
  const secret = await secretBox.inputValue();
  assert.match(secret, /^dk_[A-Za-z0-9]{40}$/);
  // Copy puts the secret (shown once) on the clipboard.
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  await page.click('[data-testid=copy-secret]');
  await page.waitForFunction(() => /Copied/.test(document.querySelector('[data-testid=copy-secret]').textContent));
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await page.waitForSelector('[data-testid=key]');
  assert.equal(await page.textContent('[data-testid=key-prefix]'), `${secret.slice(0, 11)}…`);
  await shot('1-created');

  // OpenAI's SDK, base URL changed: an edit of a real photo, then a generation.
  const client = new OpenAI({ baseURL: `${BASE}/v1`, apiKey: secret, maxRetries: 0, timeout: 180_000 });
  const photo = await toFile(fs.readFileSync(path.join(SAMPLES, 'chelsea.png')), 'chelsea.png', { type: 'image/png' });
  const edited = await client.images.edit({ model: 'style-05', image: photo, prompt: 'a cat in a painted garden', response_format: 'url' });
  assert.equal(typeof edited.created, 'number');
  assert.equal(edited.data.length, 1);
  const file = await fetch(edited.data[0].url);
  assert.equal(file.status, 200);
  assert.equal(file.headers.get('content-type'), 'image/png');
  // Text→image runs the operator's first text→image template: OpenAI Images (a stand-in here).
  const made = await client.images.generate({ model: 'gpt-image-1', prompt: 'a quiet harbour at dusk', size: '1024x1536', response_format: 'b64_json' });
  assert.equal(made.data.length, 1);
  const png = Buffer.from(made.data[0].b64_json, 'base64');
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [1024, 1536], 'the provider\'s portrait size');
  const sent = await (await fetch(`${process.env.DARKROOM_E2E_OPENAI_URL}/__requests`)).json();
  const last = sent.at(-1);
  assert.equal(last.body.prompt, 'a quiet harbour at dusk');
  assert.equal(last.body.size, '1024x1536');
  assert.match(last.body.user, /^[0-9a-f]{32}$/, 'an opaque member reference, never the email');

  // The page shows the calls, with what they cost, and the balance went down by two charges.
  await page.reload();
  await hydrated(page);
  await page.waitForSelector('[data-testid=requests]');
  const log = await page.textContent('[data-testid=requests]');
  assert.match(log, /POST \/v1\/images\/edits/);
  assert.match(log, /POST \/v1\/images\/generations/);
  assert.ok(!(await page.content()).includes(secret), 'the secret is never shown again');
  assert.equal(await page.textContent('[data-testid=balance]'), '40 credits');
  await shot('2-log');

  // Revoke on the page: the SDK's next call is refused (401).
  await page.click('[data-testid=key-revoke]');
  await page.waitForSelector('[data-testid=key-state]:has-text("revoked")');
  await assert.rejects(client.images.generate({ prompt: 'again', size: '64x64' }), (e) => e.status === 401);
  // The docs page renders the document.
  await page.click('[data-testid=api-docs-link]');
  await page.waitForSelector('text=POST /api/v1/generations');
  await shot('3-docs');
  assert.deepEqual(errors, []);
  await ctx.close();
});
