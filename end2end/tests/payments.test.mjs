// Buying credits in Chromium (issue 4): click "Buy" on a package; the server creates a
// Checkout Session against the local Stripe stand-in (scripts/e2e.sh starts it); the
// stand-in's checkout page sends the browser back; the test then delivers the signed
// `checkout.session.completed` webhook, as Stripe would; the header balance updates live,
// without a reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { launch, hydrated, signUp, SHOTS, BASE } from '../support.mjs';

const STANDIN = process.env.DARKROOM_E2E_STRIPE_URL ?? 'http://127.0.0.1:3101';
const SECRET = process.env.DARKROOM_E2E_STRIPE_WEBHOOK_SECRET ?? 'whsec_e2e';

/** Stripe's signature: t=<secs>,v1=hex(HMAC-SHA256(secret, "<t>.<body>")). */
function sign(body, t = Math.floor(Date.now() / 1000)) {
  const v1 = crypto.createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

async function deliver(body, signature) {
  const r = await fetch(`${BASE}/payments/stripe/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body });
  return r.status;
}

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('buy a package: Stripe checkout, signed webhook, live balance', { timeout: 120_000 }, async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const shot = (step) => page.screenshot({ path: path.join(SHOTS, `payments-${step}.png`), fullPage: true });

  await signUp(page, BASE, 'buyer');
  await page.goto(`${BASE}/credits`);
  await hydrated(page);
  await page.click('[data-testid=buy-credits]');
  await page.waitForSelector('[data-testid=plans]');
  await hydrated(page);
  assert.equal((await page.textContent('[data-testid=balance]')).trim(), '50 credits');
  await shot('1-plans');
  const starter = page.locator('[data-plan=starter]');
  assert.match(await starter.textContent(), /100 credits.*USD 5\.00.*expire 365 days/s);
  await starter.locator('[data-testid=buy-stripe]').click();

  // On the provider's (stand-in) checkout page, for the package's price.
  await page.waitForURL(`${STANDIN}/c/pay/**`);
  assert.equal((await page.textContent('[data-testid=standin-amount]')).trim(), 'USD 5.00');
  const sessions = await (await fetch(`${STANDIN}/__sessions`)).json();
  const session = sessions.at(-1);
  assert.equal(session.amount_total, 500);
  await page.click('#pay');
  await page.waitForURL('**/credits/buy?paid=**');
  await hydrated(page);
  await page.waitForSelector('[data-testid=checkout-returned]');
  assert.equal((await page.textContent('[data-testid=balance]')).trim(), '50 credits', 'not credited before the webhook');
  await page.evaluate(() => { window.__sameDocument = true; });

  const event = JSON.stringify({
    id: `evt_e2e_${Date.now()}`, object: 'event', type: 'checkout.session.completed', created: Math.floor(Date.now() / 1000),
    data: { object: { id: session.id, object: 'checkout.session', mode: 'payment', status: 'complete', payment_status: 'paid',
      amount_total: 500, currency: 'usd', client_reference_id: session.client_reference_id, customer: 'cus_e2e',
      customer_details: { email: 'billing@example.com' }, payment_intent: 'pi_e2e' } },
  });
  assert.equal(await deliver(event, sign(event, Math.floor(Date.now() / 1000) - 600)), 400, 'a stale signature is refused');
  assert.equal(await deliver(event, sign(event.replace('"amount_total":500', '"amount_total":5000'))), 400, 'a signature for another body is refused');
  assert.equal(await deliver(event, sign(event)), 200);
  assert.equal(await deliver(event, sign(event)), 200, 'a redelivery is accepted and changes nothing');

  await page.waitForFunction(() => document.querySelector('[data-testid=balance]')?.textContent.trim() === '150 credits', null, { timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload');
  // The page re-reads the payment: confirmed, and listed as paid.
  await page.waitForSelector('[data-testid=payments] tr[data-status=paid]');
  assert.match(await page.textContent('[data-testid=checkout-returned]'), /payment is confirmed/);
  await shot('2-credited');
  // The ledger shows one purchase.
  await page.goto(`${BASE}/credits?kind=purchase`);
  await page.waitForSelector('[data-testid=ledger]');
  assert.equal(await page.locator('[data-testid=ledger] tbody tr').count(), 1);
  assert.deepEqual(errors, []);
  await ctx.close();
});
