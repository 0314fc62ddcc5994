// A local stand-in for OpenAI Images for the browser tests (no network here): answers
// `POST /v1/images/generations` (JSON: model, prompt, n, size, user) with the documented
// `{"created", "data": [{"b64_json"}]}`, a PNG painted from the prompt at the size asked for
// (gpt-image sizes: 1024x1024, 1536x1024, 1024x1536; `auto` is square), and lists what it
// received at `GET /__requests` so a test can check what left the server, each with `ms`: the
// stand-in's own time from the request's last byte to its answer (the benchmark in
// bench/remote.sh subtracts it). Painting is deterministic, so images are kept per prompt and
// size: a repeated request is answered at once.
// Usage: node standin/openai.mjs <port> <api key>
import http from 'node:http';
import zlib from 'node:zlib';

const port = Number(process.argv[2] ?? 3102);
const key = process.argv[3] ?? 'sk-e2e-openai';
const received = [];

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
// An 8-bit RGB PNG (PNG specification, ISO/IEC 15948): a gradient tinted by the prompt.
function painted(prompt, w, h) {
  let seed = 7;
  for (const ch of Buffer.from(prompt)) seed = (seed * 31 + ch) >>> 0;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    for (let x = 0; x < w; x++) {
      raw[row + 1 + x * 3] = ((x * 255) / w) ^ (seed & 0xff);
      raw[row + 2 + x * 3] = ((y * 255) / h) ^ ((seed >> 8) & 0xff);
      raw[row + 3 + x * 3] = ((x + y) & 0xff) ^ ((seed >> 16) & 0xff);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const paintedCache = new Map();
function paintedOnce(prompt, w, h) {
  const k = `${w}x${h} ${prompt}`;
  if (!paintedCache.has(k)) {
    if (paintedCache.size > 64) paintedCache.clear();
    paintedCache.set(k, painted(prompt, w, h).toString('base64'));
  }
  return paintedCache.get(k);
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
const error = (res, status, code, message) => send(res, status, { error: { message, type: 'invalid_request_error', param: null, code } });

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => { raw += c; });
  req.on('end', () => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    if (req.method === 'GET' && url.pathname === '/__requests') return send(res, 200, received);
    if (req.method === 'POST' && url.pathname === '/v1/images/generations') {
      if (req.headers.authorization !== `Bearer ${key}`) return error(res, 401, 'invalid_api_key', 'Incorrect API key provided.');
      let body;
      try { body = JSON.parse(raw); } catch { return error(res, 400, 'invalid_json', 'The body is not JSON.'); }
      const record = { path: url.pathname, body, ms: 0 };
      received.push(record);
      res.on('finish', () => { record.ms = Number(process.hrtime.bigint() - started) / 1e6; });
      const sizes = { auto: [1024, 1024], '1024x1024': [1024, 1024], '1536x1024': [1536, 1024], '1024x1536': [1024, 1536] };
      const size = sizes[body.size ?? 'auto'];
      if (!body.prompt || !body.model) return error(res, 400, 'missing_required_parameter', 'prompt and model are required.');
      if (!size) return error(res, 400, 'invalid_value', `Invalid size ${body.size}.`);
      const b64 = paintedOnce(`${body.model} ${body.prompt}`, size[0], size[1]);
      return send(res, 200, { created: Math.floor(Date.now() / 1000), data: [{ b64_json: b64 }], usage: { total_tokens: 100 } });
    }
    return error(res, 404, 'not_found', `No route ${req.method} ${url.pathname} here.`);
  });
}).listen(port, '127.0.0.1');
