// Shared pieces of the end-to-end tests: the browser, the screen sizes, and page helpers.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

/** The server under test and the sample photos (scripts/e2e.sh sets both). */
export const BASE = process.env.DARKROOM_E2E_URL ?? 'http://127.0.0.1:3100';
export const SAMPLES = process.env.DARKROOM_SAMPLES ?? path.resolve('../data/models/samples');

export const SHOTS = path.resolve(process.env.DARKROOM_SHOTS ?? 'screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

/** Debian's Chromium, headless, with the flags this closed network needs. */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Desktop and phone (390×844, touch) contexts. */
export const sizes = [
  ['desktop', { viewport: { width: 1280, height: 800 } }],
  ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }],
];

/** Waits until the WASM bundle has hydrated the page. */
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}

/** Fills in and submits the sign-up form; lands on the create page. */
export async function signUp(page, base, tag, shot) {
  await page.goto(`${base}/signup`);
  await hydrated(page);
  await page.fill('input[name=email]', `e2e-${tag}-${Date.now()}@example.com`);
  await page.fill('input[name=password]', 'a long enough password');
  await page.fill('input[name=display_name]', `E2E ${tag}`);
  await page.check('input[name=age_confirmed]');
  await page.check('input[name=terms_accepted]');
  if (shot) await shot();
  await page.click('button[type=submit]');
  await page.waitForURL('**/create');
}
