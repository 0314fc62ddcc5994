// Shared pieces of the end-to-end tests: the browser, the screen sizes, and page helpers.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

/** The server under test and the sample photos (scripts/e2e.sh sets both). */
export const BASE = process.env.DARKROOM_E2E_URL ?? 'http://127.0.0.1:3100';
export const SAMPLES = process.env.DARKROOM_SAMPLES ?? path.resolve('../data/models/samples');

export const SHOTS = path.resolve(process.env.DARKROOM_SHOTS ?? 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

/**
 * Debian's Chromium, headless, with the flags this closed network needs. Every context it
 * opens records the page's Content-Security-Policy violations (an inline style or script the
 * policy blocks: something the page meant to do that did not happen); `hydrated` fails on any.
 */
export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const ctx = await newContext(options);
    // What each page said went wrong, for `hydrated` to print when a page never hydrates.
    ctx.on('page', (p) => {
      p.__problems = [];
      p.on('pageerror', (e) => p.__problems.push(`pageerror: ${e}`));
      p.on('console', (m) => { if (m.type() === 'error') p.__problems.push(`console: ${m.text()}`); });
      p.on('requestfailed', (r) => p.__problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    });
    await ctx.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`.trim()));
    });
    return ctx;
  };
  return browser;
}

/** Desktop and phone (390×844, touch) contexts. */
export const sizes = [
  ['desktop', { viewport: { width: 1280, height: 800 } }],
  ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }],
];

/** Waits until the WASM bundle has hydrated the page. */
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 }).catch((e) => {
    console.log(`${page.url()} did not hydrate; the page reported:`, JSON.stringify(page.__problems ?? []));
    throw e;
  });
  const blocked = await page.evaluate(() => window.__cspViolations ?? []);
  if (blocked.length) throw new Error(`${page.url()}: the Content-Security-Policy blocked ${JSON.stringify(blocked)}`);
}

/** The mail folder the server writes to when no SMTP server is configured (scripts/e2e.sh). */
/** The administrator `scripts/e2e.sh` makes with the CLI's create-admin. */
export const STAFF_EMAIL = process.env.DARKROOM_E2E_MOD_EMAIL ?? 'moderator@example.com';
export const STAFF_PASSWORD = process.env.DARKROOM_E2E_MOD_PASSWORD ?? 'moderator password 1';
export const OUTBOX = process.env.DARKROOM_E2E_OUTBOX ?? '/tmp/darkroom-outbox';

/** Undoes quoted-printable (soft line breaks, =XX octets), enough to read links. */
export function decodeQp(raw) {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/** The newest mail to `email` containing `text` (waits up to 15 s), decoded. */
export async function mailTo(email, text = '') {
  const until = Date.now() + 15_000;
  for (;;) {
    const mails = fs.existsSync(OUTBOX) ? fs.readdirSync(OUTBOX).filter((f) => f.endsWith('.eml'))
      .map((f) => ({ t: fs.statSync(path.join(OUTBOX, f)).mtimeMs, m: decodeQp(fs.readFileSync(path.join(OUTBOX, f), 'utf8')) }))
      .filter(({ m }) => m.toLowerCase().includes(`to: ${email.toLowerCase()}`) && m.includes(text))
      .sort((a, b) => a.t - b.t) : [];
    if (mails.length) return mails.at(-1).m;
    if (Date.now() > until) throw new Error(`no mail to ${email} with ${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first link in `mail` whose path starts with `prefix` (e.g. `/verify?token=`). */
export function linkIn(mail, prefix) {
  const m = mail.match(new RegExp(`https?://[^\\s"<]*${prefix.replace(/[?]/g, '\\?')}[A-Za-z0-9_-]+`));
  if (!m) throw new Error(`no ${prefix} link in ${mail}`);
  return m[0];
}

/** Fills in and submits the sign-up form, opens the link from the outbox (it confirms the
 * address and signs in, as for a member), and lands on the create page. Returns the email. */
export async function signUp(page, base, tag, shot) {
  const email = await submitSignUp(page, base, tag, shot);
  await page.goto(linkIn(await mailTo(email, '/verify?token='), '/verify?token='));
  await page.waitForSelector('[data-testid=verify-done]');
  await page.goto(`${base}/create`);
  await hydrated(page);
  return email;
}

/** Signs up and signs in with the password without opening the link; lands on the create
 * page. Returns the email. */
export async function signUpUnverified(page, base, tag, shot) {
  const email = await submitSignUp(page, base, tag, shot);
  await page.goto(`${base}/signin`);
  await hydrated(page);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'a long enough password');
  await Promise.all([page.waitForURL('**/create'), page.click('button[type=submit]')]);
  return email;
}

/** Signs in as the administrator `scripts/e2e.sh` makes and waits to leave the sign-in page. */
export async function signInStaff(page, base = BASE) {
  await page.goto(`${base}/signin`);
  await hydrated(page);
  await page.fill('input[name=email]', STAFF_EMAIL);
  await page.fill('input[name=password]', STAFF_PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname !== '/signin'), page.click('button[type=submit]')]);
}

/** Fills in and submits the sign-up form; lands on "check your inbox". Returns the email. */
async function submitSignUp(page, base, tag, shot) {
  await page.goto(`${base}/signup`);
  await hydrated(page);
  const email = `e2e-${tag}-${Date.now()}@example.com`;
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'a long enough password');
  await page.fill('input[name=display_name]', `E2E ${tag}`);
  await page.check('input[name=age_confirmed]');
  await page.check('input[name=terms_accepted]');
  if (shot) await shot();
  await page.click('button[type=submit]');
  await page.waitForURL('**/signup/sent');
  return email;
}
