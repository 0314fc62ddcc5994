// Accounts, consent and privacy in Chromium (issue 7): sign up and confirm the address from
// the outbox; reset the password by mail (the other session ends); switch to the dark theme
// and German; accept a new material terms version an administrator published; export the
// data (the ZIP link arrives by mail); delete the account.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, hydrated, signUpUnverified, mailTo, linkIn, SHOTS, BASE, STAFF_EMAIL as MOD_EMAIL, STAFF_PASSWORD as MOD_PASSWORD } from '../support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function signIn(page, email, password) {
  await page.goto(`${BASE}/signin`);
  await hydrated(page);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForURL('**/create'), page.click('button[type=submit]')]);
}

test('sign up, verify, reset, theme and language, new terms, export, delete', { timeout: 180_000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => { errors.push(String(e)); console.log('PAGEERROR at', page.url(), String(e)); });
  page.on('console', (m) => { if (m.type() === 'error') console.log('console:', page.url(), m.text()); });
  const shot = (step) => page.screenshot({ path: path.join(SHOTS, `accounts-${step}.png`), fullPage: true });

  // Sign up: browsing works, creating waits for the confirmed address.
  const email = await signUpUnverified(page, BASE, 'account');
  await page.waitForSelector('[data-testid=verify-banner]');
  await shot('1-unverified');
  const verify = linkIn(await mailTo(email, '/verify?token='), '/verify?token=');
  await page.goto(verify);
  assert.match(await (await page.waitForSelector('[data-testid=verify-done]')).textContent(), /confirmed/);
  await page.goto(`${BASE}/create`);
  await hydrated(page);
  assert.equal(await page.locator('[data-testid=verify-banner]').count(), 0);

  // Reset the password from a second browser; this one is signed out.
  const other = await browser.newContext();
  const op = await other.newPage();
  await op.goto(`${BASE}/forgot`);
  await hydrated(op);
  await op.fill('input[name=email]', email);
  await op.click('button[type=submit]');
  await op.waitForSelector('[data-testid=reset-sent]');
  await op.goto(linkIn(await mailTo(email, '/reset?token='), '/reset?token='));
  await hydrated(op);
  await op.fill('input[name=password]', 'my new long password');
  await Promise.all([op.waitForURL('**/signin?reset=1'), op.click('button[type=submit]')]);
  await op.waitForSelector('[data-testid=reset-done]');
  await other.close();
  await page.goto(`${BASE}/settings`);
  await hydrated(page);
  assert.equal(await page.locator('[data-testid=balance]').count(), 0, 'the old session ended');
  await signIn(page, email, 'my new long password');

  // Dark theme and German: stored, applied to the whole page.
  await page.goto(`${BASE}/settings`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=sessions]');
  assert.match(await page.textContent('[data-testid=security-events]'), /password reset/);
  await page.selectOption('[data-testid=theme]', 'dark');
  await page.selectOption('[data-testid=language]', 'de');
  await Promise.all([page.waitForEvent('load'), page.click('[data-testid=prefs-save]')]);
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  await hydrated(page);
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  assert.equal((await page.textContent('h1')).trim(), 'Einstellungen');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(20, 19, 17)', 'dark background');
  assert.match(await page.textContent('[data-testid=security-events]'), /Passwort zurückgesetzt/);
  await shot('2-dark-german');
  // Every page speaks it, rendered by the server and after hydration alike.
  for (const [url, words] of [
    ['/gallery', ['Meine Galerie', 'Zeigen', 'Filtern']],
    ['/credits', ['Credits kaufen', 'CSV herunterladen']],
    ['/credits/buy', ['Ihre Zahlungen']],
    ['/settings/api', ['API-Schlüssel', 'Neuer Schlüssel', 'Beispiele']],
    ['/explore', ['Entdecken', 'Neueste']],
    // The styles' names are their templates' (operator data), in German.
    ['/create', ['Nachtgold', 'Sonniges Pastell']],
    ['/privacy', ['Datenschutzhinweise', 'Was wir speichern']],
    ['/nowhere', ['Nicht gefunden']],
  ]) {
    await page.goto(`${BASE}${url}`);
    await hydrated(page);
    await page.waitForFunction(() => !document.body.innerText.includes('Wird geladen'));
    const text = await page.textContent('main');
    for (const w of words) assert.ok(text.includes(w), `${url} says "${w}"`);
    for (const english of ['Loading…', 'Download CSV', 'Nothing here yet', 'AI-generated', 'Night Gold']) {
      assert.ok(!text.includes(english), `${url} has no English "${english}"`);
    }
  }

  // A choice saved says so in a toast (and the region announces it).
  await page.goto(`${BASE}/settings`);
  await hydrated(page);
  await page.check('[data-testid=show-name]');
  await page.click('[data-testid=show-name-save]');
  const toast = await page.waitForSelector('[role=status] [data-testid=toast]');
  assert.equal((await toast.textContent()).trim(), 'Gespeichert.');
  await page.waitForSelector('[data-testid=toast]', { state: 'detached', timeout: 10_000 });

  // An administrator publishes a material terms version; the member must accept it.
  const actx = await browser.newContext();
  const admin = await actx.newPage();
  await signIn(admin, MOD_EMAIL, MOD_PASSWORD);
  await admin.goto(`${BASE}/terms`);
  await hydrated(admin);
  const version = `e2e-${Date.now()}`;
  await admin.fill('[data-testid=publish-legal] input[name=version]', version);
  await admin.fill('[data-testid=publish-legal] textarea[name=body]', '# Terms\n\nPlease be **kind**.');
  await admin.check('[data-testid=publish-legal] input[name=material]');
  await admin.click('[data-testid=publish-legal] button[type=submit]');
  await admin.waitForSelector(`[data-testid=legal-version]:has-text("${version}")`);
  await actx.close();
  await page.goto(`${BASE}/create`);
  await hydrated(page);
  await page.waitForSelector('[data-testid=terms-banner]');
  await page.click('[data-testid=terms-banner] a');
  await page.waitForSelector('[data-testid=accept-terms]');
  assert.match(await page.innerHTML('[data-testid=legal-body]'), /<strong>kind<\/strong>/);
  await shot('3-terms');
  await page.click('[data-testid=accept-terms] button');
  await page.waitForFunction(() => !document.querySelector('[data-testid=terms-banner]'));

  // Export: the link arrives by mail and serves a ZIP.
  await page.goto(`${BASE}/settings`);
  await hydrated(page);
  await page.click('[data-testid=export]');
  const exportMail = await mailTo(email, '/account/exports/');
  const zipUrl = exportMail.match(/https?:\/\/[^\s"<]*\/account\/exports\/[^\s"<]+/)[0].replace(/&amp;/g, '&');
  const zip = await fetch(zipUrl);
  assert.equal(zip.status, 200);
  assert.equal(zip.headers.get('content-type'), 'application/zip');
  const bytes = Buffer.from(await zip.arrayBuffer());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  for (const part of ['profile.json', 'consents.json', 'ledger.csv', 'generations.json']) {
    assert.ok(bytes.includes(Buffer.from(part)), part);
  }

  // Delete the account: the page warns, asks for the password, and it is gone.
  await page.reload();
  await hydrated(page);
  assert.match(await page.textContent('[data-testid=delete-warning]'), /endgültig|permanent/);
  await page.fill('[data-testid=delete-form] input[name=password]', 'my new long password');
  await page.fill('[data-testid=delete-form] input[name=confirm]', 'DELETE');
  await Promise.all([page.waitForURL(`${BASE}/?deleted=1`), page.click('[data-testid=delete-form] button[type=submit]')]);
  await page.goto(`${BASE}/signin`);
  await hydrated(page);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'my new long password');
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=form-error]');
  await shot('4-deleted');
  assert.deepEqual(errors, []);
  await ctx.close();
});
