// The client side of bench/streams.sh: the server's CPU time for one member's generations,
// first with no other live stream open, then with `others` members' streams open (each a
// signed-in `GET /events` that is read as it arrives). Each phase creates `jobs` generations
// one after another through the API (workers paused: a job, a charge and their events each).
// Usage: node bench/streams.mjs <base> <api key> <upload id> <server pid> <others> <jobs>
import { readFileSync } from 'node:fs';

const [base, secret, upload, pid, othersArg, jobsArg] = process.argv.slice(2);
const others = Number(othersArg);
const jobs = Number(jobsArg);
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s
const cpu = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK; // utime + stime, seconds
};
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))]; };

async function phase(name) {
  const c0 = cpu();
  const t0 = performance.now();
  const took = [];
  for (let i = 0; i < jobs; i++) {
    const s = performance.now();
    const r = await fetch(`${base}/api/v1/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ upload_id: upload, style: 3 }),
    });
    if (r.status !== 201) throw new Error(`create: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
    took.push(performance.now() - s);
  }
  const wall = (performance.now() - t0) / 1000;
  const used = cpu() - c0;
  console.error(`${name.padEnd(40)} server CPU ${used.toFixed(2).padStart(6)} s (${((used / wall) * 100).toFixed(0).padStart(3)}% of a core)   per request p50 ${pct(took, 50).toFixed(1)} ms p99 ${pct(took, 99).toFixed(1)} ms`);
  return { used, wall };
}

/// The server's CPU while nothing is asked of it for `secs` (what open streams cost alone:
/// their 15 s safety polls and heartbeats).
async function idle(name, secs) {
  const c0 = cpu();
  await new Promise((r) => setTimeout(r, secs * 1000));
  const used = cpu() - c0;
  console.error(`${name.padEnd(40)} server CPU ${used.toFixed(2).padStart(6)} s over ${secs.toFixed(1)} s`);
  return used;
}

console.error(`${jobs} generations of one member, in sequence, workers paused`);
const without = (await phase('no other streams open')).used;

// Other members sign up, sign in and open their live stream.
let open = 0;
let received = 0;
const form = (o) => ({ method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(o) });
async function member(i) {
  const email = `watcher${i}@example.com`;
  const password = 'correct horse battery';
  await fetch(`${base}/api/sign_up`, form({ email, password, display_name: 'W', age_confirmed: 'on', terms_accepted: 'on' })).then((r) => r.arrayBuffer());
  const r = await fetch(`${base}/api/sign_in`, form({ email, password }));
  const cookie = r.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const events = await fetch(`${base}/events`, { headers: { cookie, accept: 'text/event-stream' } });
  if (events.status !== 200) throw new Error(`GET /events: ${events.status}`);
  open++;
  (async () => {
    for await (const chunk of events.body) received += chunk.length;
  })().catch(() => {});
}
for (let i = 0; i < others; i += 8) {
  await Promise.all(Array.from({ length: Math.min(8, others - i) }, (_, k) => member(i + k)));
}
await new Promise((r) => setTimeout(r, 2000));
const before = received;
const { used: withStreams, wall } = await phase(`${open} other members' streams open`);
console.error(`bytes sent to the other members' streams during the phase: ${received - before} (heartbeats only: they are not woken)`);
const alone = await idle(`the same streams, no generations`, wall);
console.error(`ratio with / without: ${(withStreams / without).toFixed(2)}; with, less what the open streams cost alone: ${((withStreams - alone) / without).toFixed(2)}`);
process.exit(0);
