// The first visit on a phone: for each page, in Debian's Chromium at 390×844 with 4× CPU
// throttling and a "Fast 3G"-like network (Chrome DevTools Protocol emulation: 562.5 ms
// round trip, 180 KB/s down, 84 KB/s up, as DevTools' preset), prints the bytes transferred
// (and the bundle's share), Largest Contentful Paint and the time until the page has hydrated
// (`body[data-hydrated]`), on a cold cache and then a warm one.
//
// Usage: node bench/first-visit.mjs [base URL] (default http://127.0.0.1:3000; run from the
// repository with end2end/node_modules installed). Extra pages, such as a share page:
// BENCH_PAGES="/s/<token> /p/<id>". Goals (issue "Fast on a phone"): LCP ≤ 2.5 s,
// hydrated ≤ 4 s, bundle ≤ 300 KB brotli.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve('end2end/package.json'));
const { chromium } = require('playwright-core');

const BASE = process.argv[2] ?? 'http://127.0.0.1:3000';
const PAGES = ['/', '/explore', '/create', ...(process.env.BENCH_PAGES ?? '').split(/\s+/).filter(Boolean)];
/** DevTools' "Fast 3G": bytes per second. */
const NETWORK = { offline: false, latency: 562.5, downloadThroughput: 180 * 1024, uploadThroughput: 84 * 1024 };

async function visit(context, url) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', NETWORK);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  let bytes = 0;
  let bundle = 0;
  const urls = new Map();
  const protocols = new Set();
  cdp.on('Network.responseReceived', (e) => {
    urls.set(e.requestId, e.response.url);
    protocols.add(e.response.protocol);
  });
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
    if ((urls.get(e.requestId) ?? '').includes('/pkg/')) bundle += e.encodedDataLength;
  });
  await page.addInitScript(() => {
    window.__lcp = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__lcp = entry.startTime;
    }).observe({ type: 'largest-contentful-paint', buffered: true });
  });
  const start = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 120_000 });
  const hydratedMs = Date.now() - start;
  await page.waitForLoadState('networkidle');
  const lcp = await page.evaluate(() => window.__lcp);
  await page.close();
  return { bytes, bundle, lcp, hydratedMs, protocols: [...protocols].join(',') };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
});
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
console.log(`first visit at 390×844, 4× CPU, Fast 3G, against ${BASE}`);
console.log('page                 cache  transferred  bundle    LCP       hydrated  protocol');
for (const p of PAGES) {
  // BENCH_INSECURE=1: a local TLS front with a self-signed certificate (bench/first-visit-h2.sh).
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, ignoreHTTPSErrors: process.env.BENCH_INSECURE === '1' });
  for (const cache of ['cold', 'warm']) {
    const r = await visit(context, BASE + p);
    console.log(`${p.padEnd(20)} ${cache.padEnd(6)} ${kb(r.bytes).padStart(11)}  ${kb(r.bundle).padStart(8)}  ${(r.lcp / 1000).toFixed(2).padStart(6)} s  ${(r.hydratedMs / 1000).toFixed(2).padStart(6)} s  ${r.protocols}`);
  }
  await context.close();
}
// Baseline in the same run: the same bundle as it travelled before precompression (identity).
const html = await (await fetch(BASE + '/')).text();
const files = [...new Set(html.match(/\/pkg\/[0-9a-f]{16}\/[A-Za-z_.]+\.(js|wasm|css)/g) ?? [])];
let identity = 0;
let brotli = 0;
for (const f of files) {
  identity += (await (await fetch(BASE + f, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer()).byteLength;
  const r = await fetch(BASE + f, { headers: { 'accept-encoding': 'br' }, decompress: false });
  brotli += Number(r.headers.get('content-length') ?? 0);
}
console.log(`bundle: ${kb(identity)} uncompressed (baseline: a client that accepts no encoding), ${kb(brotli)} brotli (now)`);
console.log('goals: LCP ≤ 2.50 s, hydrated ≤ 4.00 s, bundle (cold) ≤ 300 KB');
await browser.close();
