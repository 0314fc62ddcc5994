// The pricing page and the support page in Chromium, at desktop and phone sizes: a visitor
// reads the prices, "Sign in to buy" signs in and comes back to the top-up page; a visitor
// writes to support and sees the receipt; the administrator answers from the queue and the
// visitor's mailbox has the answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, sizes, hydrated, mailTo, SHOTS, BASE, STAFF_EMAIL as ADMIN_EMAIL, STAFF_PASSWORD as ADMIN_PASSWORD } from '../support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const [name, options] of sizes) {
  test(`pricing and support (${name})`, { timeout: 120_000 }, async () => {
    const errors = [];
    const shot = (page, step) => page.screenshot({ path: path.join(SHOTS, `support-${name}-${step}.png`), fullPage: true });

    // A visitor: prices without signing in, then "Sign in to buy" comes back to the top-up page.
    const vctx = await browser.newContext(options);
    const visitor = await vctx.newPage();
    visitor.on('pageerror', (e) => errors.push(String(e)));
    await visitor.goto(`${BASE}/pricing`);
    await hydrated(visitor);
    assert.match(await visitor.textContent('[data-testid=pricing-grant]'), /\d+ free credits/);
    assert.ok((await visitor.locator('[data-testid=pricing-templates] tbody tr').count()) > 0, 'template prices');
    assert.match(await visitor.textContent('[data-plan=starter]'), /USD 5\.00/);
    await shot(visitor, '1-pricing');

    // Support: the visitor writes in and sees the receipt's reference.
    const message = `Where did my credits go? (${name} ${Date.now()})`;
    const email = `e2e-support-${name}-${Date.now()}@example.com`;
    await visitor.goto(`${BASE}/support`);
    await hydrated(visitor);
    await visitor.fill('[data-testid=support-email]', email);
    await visitor.selectOption('[data-testid=support-topic]', 'billing');
    await visitor.fill('[data-testid=support-message]', message);
    await visitor.click('[data-testid=support-submit]');
    await visitor.waitForSelector('[data-testid=support-sent]');
    await shot(visitor, '2-sent');
    assert.match(await mailTo(email, 'We received your support request'), /Where did my credits go/);

    // "Sign in to buy" with the administrator's account: back on the top-up page.
    await visitor.goto(`${BASE}/pricing`);
    await hydrated(visitor);
    await visitor.click('[data-plan=starter] [data-testid=pricing-sign-in]');
    await visitor.waitForURL('**/signin?next=**');
    await hydrated(visitor);
    await visitor.fill('input[name=email]', ADMIN_EMAIL);
    await visitor.fill('input[name=password]', ADMIN_PASSWORD);
    // (A glob like `**/credits/buy` would match the sign-in page's own `?next=/credits/buy`.)
    await Promise.all([visitor.waitForURL((u) => u.pathname === '/credits/buy'), visitor.click('button[type=submit]')]);
    await hydrated(visitor);
    await visitor.waitForSelector('[data-testid=plans]');

    // The administrator answers from the queue; the visitor's mailbox has the answer.
    await visitor.goto(`${BASE}/admin/support`);
    await hydrated(visitor);
    const item = visitor.locator('[data-testid=support-queue] li', { hasText: message });
    await item.waitFor();
    await shot(visitor, '3-queue');
    await item.locator('[data-testid=support-answer-text]').fill(`Found them (${name}).`);
    await item.locator('[data-testid=support-answer-send]').click();
    assert.match(await mailTo(email, `Found them (${name}).`), /Where did my credits go/);
    await vctx.close();
    assert.deepEqual(errors, [], 'no page errors');
  });
}
