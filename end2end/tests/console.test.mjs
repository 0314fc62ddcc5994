// The operator's console and the member's dashboard in Chromium, at desktop and phone sizes,
// with screenshots of each page: a new member lands on the dashboard from `/` (empty states,
// the chart); the administrator publishes a notice, the member sees its banner and closes
// it; the administrator walks the console's pages (members, generations, payments, audit log,
// notices, settings) and saves a setting, which the audit log then shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, signInStaff, sizes, hydrated, signUp, SHOTS, BASE } from '../support.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const [name, options] of sizes) {
  test(`console and dashboard (${name})`, { timeout: 180_000 }, async () => {
    const errors = [];
    const shot = (page, step) => page.screenshot({ path: path.join(SHOTS, `console-${name}-${step}.png`), fullPage: true });

    // A new member: `/` is their dashboard, with empty states and the chart.
    const mctx = await browser.newContext(options);
    const member = await mctx.newPage();
    member.on('pageerror', (e) => errors.push(String(e)));
    await signUp(member, BASE, `dash-${name}`);
    await member.goto(`${BASE}/`);
    await member.waitForURL((u) => u.pathname === '/dashboard');
    await hydrated(member);
    await member.waitForSelector('[data-testid=usage-chart]');
    assert.ok(await member.isVisible('[data-testid=dash-idle]'), 'nothing running yet');
    assert.match(await member.textContent('[data-testid=dash-balance]'), /\d+/);
    await shot(member, '1-dashboard');

    // The administrator signs in and publishes a notice.
    const actx = await browser.newContext(options);
    const admin = await actx.newPage();
    admin.on('pageerror', (e) => errors.push(String(e)));
    await signInStaff(admin);
    const title = `Maintenance window ${name} ${Date.now()}`;
    await admin.goto(`${BASE}/admin/notices`);
    await hydrated(admin);
    await admin.fill('[data-testid=notice-title]', title);
    await admin.fill('[data-testid=notice-body]', 'Generation pauses for ten minutes.');
    await admin.click('[data-testid=notice-publish]');
    await admin.locator('[data-testid=notices-list] li', { hasText: title }).waitFor();
    await shot(admin, '2-notices');

    // The member sees the banner on their next page and closes it.
    await member.goto(`${BASE}/gallery`);
    await hydrated(member);
    const banner = member.locator('[data-testid=notice-banner]', { hasText: title });
    await banner.waitFor();
    await shot(member, '3-banner');
    await banner.locator('[data-testid=notice-dismiss]').click();
    await banner.waitFor({ state: 'hidden' });
    await member.goto(`${BASE}/dashboard`);
    await hydrated(member);
    assert.equal(await member.locator('[data-testid=notice-banner]', { hasText: title }).count(), 0, 'closed for good');

    // Every console page renders; the settings save lands in the audit log.
    for (const [page, selector] of [
      ['members', '[data-testid=console-nav]'],
      ['generations', '[data-testid=console-nav]'],
      ['payments', '[data-testid=console-nav]'],
      ['audit', '[data-testid=audit-filters]'],
      ['settings', '[data-testid=settings-form]'],
    ]) {
      await admin.goto(`${BASE}/admin/${page}`);
      await hydrated(admin);
      await admin.waitForSelector(selector);
      await shot(admin, `4-${page}`);
    }
    const grant = await admin.inputValue('[data-testid=settings-grant]');
    const version = () => admin.inputValue('[data-testid=settings-form] input[name=version]');
    const save = async (value) => {
      const before = await version();
      await admin.fill('[data-testid=settings-grant]', value);
      const [response] = await Promise.all([
        admin.waitForResponse((r) => r.url().includes('/api/save_settings')),
        admin.click('[data-testid=settings-save]'),
      ]);
      assert.equal(response.status(), 200);
      await admin.waitForSelector('[data-testid=settings-saved]');
      // The form is read again, with the new version, before the next save.
      await admin.waitForFunction((v) => document.querySelector('[data-testid=settings-form] input[name=version]')?.value !== v, before);
      assert.equal(await admin.inputValue('[data-testid=settings-grant]'), value);
    };
    await save(String(Number(grant) + 1));
    await save(grant);
    await admin.goto(`${BASE}/admin/audit?action=settings`);
    await hydrated(admin);
    assert.match(await admin.textContent('[data-testid=audit-log]'), /signup_grant/);
    await shot(admin, '5-audit');
    await mctx.close();
    await actx.close();
    assert.deepEqual(errors, [], 'no page errors');
  });
}
