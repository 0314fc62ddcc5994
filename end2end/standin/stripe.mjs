// A local stand-in for Stripe's API for the browser tests (no network here): answers
// `POST /v1/checkout/sessions` with the documented Checkout Session object, serves the
// "hosted checkout" page that session's `url` points to (its Pay link goes to the
// session's success_url, as Stripe does after payment), and lists the sessions it made at
// `GET /__sessions` so a test can build the webhook Stripe would send.
// Usage: node standin/stripe.mjs <port> <secret key>
import http from 'node:http';

const port = Number(process.argv[2] ?? 3101);
const key = process.argv[3] ?? 'sk_test_e2e';
const base = `http://127.0.0.1:${port}`;
const sessions = [];
const byKey = new Map();

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type });
  res.end(type === 'application/json' ? JSON.stringify(body) : body);
}

http.createServer((req, res) => {
  let raw = '';
  req.on('data', (c) => { raw += c; });
  req.on('end', () => {
    const url = new URL(req.url, base);
    if (req.method === 'POST' && url.pathname === '/v1/checkout/sessions') {
      if (req.headers.authorization !== `Bearer ${key}`) {
        return send(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
      }
      const idem = req.headers['idempotency-key'];
      if (idem && byKey.has(idem)) return send(res, 200, byKey.get(idem));
      const f = Object.fromEntries(new URLSearchParams(raw));
      const id = `cs_test_e2e${sessions.length + 1}`;
      const session = {
        id, object: 'checkout.session', mode: f.mode, status: 'open', payment_status: 'unpaid',
        amount_total: Number(f['line_items[0][price_data][unit_amount]']), currency: f['line_items[0][price_data][currency]'],
        client_reference_id: f.client_reference_id, customer_email: f.customer_email,
        success_url: f.success_url, cancel_url: f.cancel_url, metadata: { payment_id: f['metadata[payment_id]'] },
        url: `${base}/c/pay/${id}`,
      };
      sessions.push(session);
      if (idem) byKey.set(idem, session);
      return send(res, 200, session);
    }
    if (req.method === 'GET' && url.pathname.startsWith('/c/pay/')) {
      const s = sessions.find((x) => x.id === url.pathname.slice('/c/pay/'.length));
      if (!s) return send(res, 404, 'no such session', 'text/plain');
      const esc = (t) => String(t).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
      return send(res, 200, `<!doctype html><title>Stand-in checkout</title><h1>Stand-in checkout</h1>
        <p data-testid="standin-amount">${esc(s.currency.toUpperCase())} ${(s.amount_total / 100).toFixed(2)}</p>
        <a id="pay" href="${esc(s.success_url)}">Pay</a> <a id="cancel" href="${esc(s.cancel_url)}">Cancel</a>`, 'text/html');
    }
    if (req.method === 'GET' && url.pathname === '/__sessions') return send(res, 200, sessions);
    send(res, 404, { error: { message: 'not found' } });
  });
}).listen(port, '127.0.0.1');
