// Every page, as a visitor, a member and an administrator, at desktop and phone size: it
// renders and hydrates with no Content-Security-Policy violation (`hydrated`), nothing is
// wider than the screen, the header's and the page's buttons are at least 44 px tall on the
// phone, and axe-core (WCAG 2 A/AA rules) finds no serious or critical violation. Each is
// saved as a screenshot in light and in dark mode (`screenshots/pages-…`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { launch, signInStaff, sizes, hydrated, signUp, SHOTS, BASE, SAMPLES } from '../support.mjs';

const AXE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const VISITOR = ['/', '/explore', '/signin', '/signup', '/forgot', '/pricing', '/support', '/terms', '/privacy', '/no-such-page'];
const MEMBER = ['/dashboard', '/create', '/gallery', '/settings', '/settings/api', '/credits', '/credits/buy'];
const ADMIN = ['/moderation', '/admin/members', '/admin/generations', '/admin/payments', '/admin/plans', '/admin/providers',
  '/admin/templates', '/admin/support', '/admin/audit', '/admin/settings', '/admin/notices'];

/** Loads `route`, checks it, saves it in both colour schemes; returns what is wrong: sideways
 * scrolling, small targets on the phone, axe's serious and critical findings. */
async function sweep(page, name, who, route) {
  const resp = await page.goto(`${BASE}${route}`);
  assert.ok(resp.status() < 500, `${route}: ${resp.status()}`);
  await hydrated(page);
  const file = (scheme) => path.join(SHOTS, `pages-${name}-${scheme}-${who}${route.replace(/[/:?=&]+/g, '_')}.png`);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: file('light'), fullPage: true });
  const wide = await page.evaluate(() => {
    const over = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > innerWidth + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`);
    return { scroll: document.documentElement.scrollWidth, inner: innerWidth, over: over.slice(0, 5) };
  });
  const problems = [];
  if (wide.scroll > wide.inner) problems.push(`scrolls sideways: ${JSON.stringify(wide)}`);
  if (name === 'phone') {
    const small = await page.$$eval('header a, header button, header label, main button, main .button', (els) => els
      // Links inside a sentence are exempt (WCAG 2.5.8: inline targets).
      .filter((el) => el.offsetParent !== null && !el.closest('[hidden], .link, .copy, table, p, .notices, .banner'))
      .map((el) => ({ what: `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}"`, h: el.getBoundingClientRect().height }))
      .filter((t) => t.h > 0 && t.h < 44));
    if (small.length) problems.push(`targets under 44 px: ${JSON.stringify(small)}`);
  }
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: file('dark'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  return [...problems, ...found].map((f) => `${route}: ${f}`);
}

for (const [name, options] of sizes) {
  test(`every page renders, fits and passes axe (${name})`, { timeout: 600_000 }, async () => {
    const errors = [];
    const findings = [];
    const visitorCtx = await browser.newContext(options);
    const visitor = await visitorCtx.newPage();
    visitor.on('pageerror', (e) => errors.push(String(e)));
    for (const route of VISITOR) findings.push(...await sweep(visitor, name, 'visitor', route));
    // The home page's before/after example, made by this server's engine.
    await visitor.goto(`${BASE}/`);
    await visitor.waitForFunction(() => [...document.querySelectorAll('.example img')].filter((i) => i.naturalWidth === 451).length === 2);

    // A member with one result, shared by link and public, so the item pages exist.
    const ctx = await browser.newContext(options);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await signUp(page, BASE, `pages-${name}`);
    await page.setInputFiles('[data-testid=photo]', path.join(SAMPLES, 'coffee.png'));
    await page.fill('[data-testid=prompt]', `Coffee ${name}`);
    await page.check('[data-testid=rights]');
    await Promise.all([page.waitForURL(/\/create\?job=/), page.click('[data-testid=submit]')]);
    const id = new URL(page.url()).searchParams.get('job');
    await page.waitForSelector(`li.job[data-job-id="${id}"][data-status=succeeded]`, { timeout: 180_000 });
    await page.goto(`${BASE}/gallery/${id}`);
    await hydrated(page);
    await page.selectOption('[data-testid=visibility]', 'public');
    await page.check('[data-testid=publish-reviewed]');
    await page.click('[data-testid=visibility-save]');
    await page.waitForSelector('[data-testid=public-link]');
    await page.click('[data-testid=link-create]');
    const link = new URL(await (await page.waitForSelector('[data-testid=new-link]')).inputValue());
    // Showcased: the visitors' home page shows it.
    await page.click('[data-testid=showcase]');
    await page.waitForFunction(() => /operator may showcase/.test(document.querySelector('[data-testid=sharing]').textContent));
    await visitor.goto(`${BASE}/`);
    await hydrated(visitor);
    await visitor.waitForSelector(`[data-testid=showcase] li[data-job-id="${id}"] img`);
    for (const route of [...MEMBER, `/gallery/${id}`]) findings.push(...await sweep(page, name, 'member', route));
    for (const route of [link.pathname, `/p/${id}`]) findings.push(...await sweep(visitor, name, 'visitor', route));

    const adminCtx = await browser.newContext(options);
    const admin = await adminCtx.newPage();
    admin.on('pageerror', (e) => errors.push(String(e)));
    await signInStaff(admin);
    for (const route of ADMIN) findings.push(...await sweep(admin, name, 'admin', route));

    assert.deepEqual(findings, [], 'every page fits, has 44 px targets on the phone and no serious or critical axe finding');
    assert.deepEqual(errors, [], 'no page errors');
    await Promise.all([visitorCtx.close(), ctx.close(), adminCtx.close()]);
  });
}
