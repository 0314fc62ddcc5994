// The client side of bench/remote.sh: signs in (for the live stream), opens `GET /events`,
// then runs generations one at a time through the API and times each from its POST to its
// `succeeded` event. Prints the figures to stderr and the counted jobs' ids to stdout.
// Usage: node bench/remote.mjs <base> <stand-in base> <email> <password> <api key> <n> <stand-in key>
const [base, standin, email, password, secret, nArg, standinKey] = process.argv.slice(2);
const n = Number(nArg);
const WARM = 3;
const prompt = 'a lighthouse on a rocky coast at dusk';
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))]; };
const line = (name, xs, note = '') =>
  console.error(`${name.padEnd(44)} p50 ${pct(xs, 50).toFixed(0).padStart(6)} ms   p99 ${pct(xs, 99).toFixed(0).padStart(6)} ms   ${note}`);

// Sign in as a browser would (the server function behind the sign-in form).
const signIn = await fetch(`${base}/api/sign_in`, {
  method: 'POST', redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ email, password }),
});
const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
if (!cookie) throw new Error(`sign-in failed: ${signIn.status}`);

// The live stream: every job event's arrival time by job id.
const succeeded = new Map();
const waiters = new Map();
const events = await fetch(`${base}/events`, { headers: { cookie, accept: 'text/event-stream' } });
if (events.status !== 200) throw new Error(`GET /events: ${events.status}`);
(async () => {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of events.body) {
    buf += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const kind = block.match(/^event: ?(.*)$/m)?.[1];
      const data = block.match(/^data: ?(.*)$/m)?.[1];
      if (kind !== 'job' || !data) continue;
      const job = JSON.parse(data);
      if (['failed', 'rejected', 'canceled'].includes(job.status)) throw new Error(`job ${job.id} ${job.status}: ${job.error}`);
      if (job.status !== 'succeeded' || succeeded.has(job.id)) continue;
      const at = performance.now();
      succeeded.set(job.id, at);
      waiters.get(job.id)?.(at);
    }
  }
})().catch((e) => { console.error(e); process.exit(1); });

const endToEnd = [];
const ids = [];
for (let i = 0; i < n + WARM; i++) {
  const t0 = performance.now();
  const r = await fetch(`${base}/api/v1/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ template: 'openai-image', prompt }),
  });
  const job = await r.json();
  if (r.status !== 201) throw new Error(`POST /api/v1/generations: ${r.status} ${JSON.stringify(job)}`);
  const at = succeeded.get(job.id) ?? (await new Promise((resolve) => waiters.set(job.id, resolve)));
  if (i >= WARM) { endToEnd.push(at - t0); ids.push(job.id); }
}
const received = await (await fetch(`${standin}/__requests`)).json();
const standinMs = received.slice(WARM).map((r) => r.ms);
// The same request straight to the stand-in, from this client, in the same run.
const direct = [];
for (let i = 0; i < n; i++) {
  const t0 = performance.now();
  const r = await fetch(`${standin}/v1/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${standinKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-image-1', prompt, size: '1024x1024', n: 1 }),
  });
  await r.arrayBuffer();
  direct.push(performance.now() - t0);
}
line('POST → succeeded event (end to end)', endToEnd, `(${n} generations)`);
line('the stand-in\'s own time per request', standinMs, '(it answers from memory)');
line('client → stand-in directly, same body', direct, '(HTTP + a 1024² PNG in base64)');
line('Darkroom\'s added time (end to end − stand-in)', endToEnd.map((e, i) => e - (standinMs[i] ?? 0)));
console.log(ids.join('\n'));
process.exit(0);
