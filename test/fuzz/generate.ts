/**
 * The bad-request generator for the edge fuzz test: a seeded PRNG (mulberry32) picks an endpoint
 * of the public API and one way of getting it wrong. Deterministic for a seed, so a failure replays.
 *
 * Requests that would reconfigure the cluster are never valid by construction: a body sent to
 * POST /api/v1/admin/nodes with the right token is always invalid, so the fuzzer cannot register
 * a node or move the master's URL (with one node, a switchover has no target and is refused).
 */
import { mulberry32, type Random } from '../../scripts/corpus/random.ts';

export interface FuzzRequest {
  endpoint: string;
  label: string;
  method: string;
  /** Raw request target, sent byte for byte. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export { mulberry32, type Random };

const pick = <T>(r: Random, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** Strings at the edges of what the API accepts, and past them. */
const WEIRD_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83dy',
  '\ud83d\ude00',
  '\ufeff',
  '\uffff',
  '\u202e\u202d',
  'e\u0301'.repeat(500),
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '中文查询',
  '../../etc/passwd',
  '%00',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '{"query":"nested"}',
  '\n\r\t',
  'a'.repeat(2048),
  'a'.repeat(2049),
  'a'.repeat(70_000),
];

const WEIRD_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -0,
  [],
  {},
  [1, 2],
  { a: { b: { c: 1 } } },
  ...WEIRD_STRINGS,
];

/** Raw bodies that are not the JSON the endpoint wants. */
function badRawBody(r: Random): { label: string; bytes: Buffer } {
  const raw: [string, () => Buffer][] = [
    ['empty', () => Buffer.alloc(0)],
    ['whitespace', () => Buffer.from('   \n ')],
    ['truncated', () => Buffer.from('{"query": "vpn')],
    ['trailing garbage', () => Buffer.from('{"query":"vpn"}}')],
    ['single quotes', () => Buffer.from("{'query':'vpn'}")],
    ['null', () => Buffer.from('null')],
    ['array', () => Buffer.from('[]')],
    ['number', () => Buffer.from('42')],
    ['string', () => Buffer.from('"query"')],
    ['NaN', () => Buffer.from('{"query":"vpn","top_k":NaN}')],
    ['BOM + JSON', () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"query":"vpn"}')])],
    [
      'invalid UTF-8',
      () =>
        Buffer.concat([Buffer.from('{"query":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')]),
    ],
    [
      'UTF-8 encoded lone surrogate',
      () => Buffer.concat([Buffer.from('{"query":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]),
    ],
    [
      'overlong NUL',
      () => Buffer.concat([Buffer.from('{"query":"'), Buffer.from([0xc0, 0x80]), Buffer.from('"}')]),
    ],
    ['raw NUL bytes', () => Buffer.from('{"query":"a\u0000b"}\u0000\u0000')],
    ['deep nesting', () => Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`)],
    [
      'deep object',
      () => Buffer.from(`{"query":"a","filter":${'{"metadata":'.repeat(2000)}1${'}'.repeat(2000)}}`),
    ],
    ['huge number', () => Buffer.from(`{"query":"a","top_k":1${'0'.repeat(400)}}`)],
    ['too big (3 MB)', () => Buffer.from(`{"query":"${'a'.repeat(3 * 1024 * 1024)}"}`)],
    ['duplicate keys', () => Buffer.from('{"query":"a","query":5}')],
    ['__proto__', () => Buffer.from('{"__proto__":{"admin":true},"query":"a"}')],
    ['constructor', () => Buffer.from('{"constructor":{"prototype":{"x":1}},"query":"a"}')],
    ['escaped lone surrogate', () => Buffer.from('{"query":"\\ud800\\u0000"}')],
    ['bad escape', () => Buffer.from('{"query":"\\x41"}')],
  ];
  const [label, make] = pick(r, raw);
  return { label, bytes: make() };
}

/** A body that is JSON but wrong for the endpoint: a valid base with one to three fields broken. */
function badJsonBody(r: Random, endpoint: string): { label: string; value: unknown } {
  const value: Record<string, unknown> = structuredClone(validBase(r, endpoint));
  const doc = (): Record<string, unknown> | undefined => {
    const first = Array.isArray(value.documents) ? (value.documents as unknown[])[0] : undefined;
    return first !== null && typeof first === 'object' && !Array.isArray(first)
      ? (first as Record<string, unknown>)
      : undefined;
  };
  const setDocField = (field: string, values: unknown[]): void => {
    const d = doc();
    if (d) d[field] = pick(r, values);
  };
  const mutations: [string, () => void][] = [
    [
      'unknown field',
      () => (value[pick(r, ['extra', 'Query', '__proto__', 'admin', ''])] = pick(r, WEIRD_VALUES)),
    ],
    [
      'missing field',
      () => void delete value[pick(r, Object.keys(value).length ? Object.keys(value) : ['x'])],
    ],
    ['query weird', () => (value.query = pick(r, WEIRD_VALUES))],
    [
      'top_k weird',
      () => (value.top_k = pick(r, [0, -1, 101, 1.5, '5', null, Number.POSITIVE_INFINITY, 2 ** 53, [], {}])),
    ],
    [
      'filter weird',
      () =>
        (value.filter = pick(r, [
          null,
          [],
          'x',
          { metadata: null },
          { metadata: [] },
          { metadata: { '': 1 } },
          { metadata: { k: { nested: 1 } } },
          { metadata: { k: [1] } },
          { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])) },
          { metadata: { ['k'.repeat(65)]: 1 } },
          { metadata: { k: 'v'.repeat(257) } },
          { metadata: {}, extra: 1 },
        ])),
    ],
    [
      'documents weird',
      () =>
        (value.documents = pick(r, [
          null,
          {},
          'x',
          [],
          Array.from({ length: 257 }, (_, i) => ({ id: `d${i}`, text: 't' })),
          [null],
          [1],
          [[]],
        ])),
    ],
    [
      'doc id weird',
      () =>
        setDocField('id', [
          '',
          '../x',
          '..%2F..%2F',
          '-a',
          '.a',
          'a b',
          'a/b',
          'a'.repeat(257),
          '\u0000',
          '\ud800',
          'é',
          5,
          null,
          [],
        ]),
    ],
    [
      'doc text weird',
      () => setDocField('text', ['', null, 5, [], 'x'.repeat(100_001), ...WEIRD_STRINGS.slice(0, 10)]),
    ],
    [
      'doc metadata weird',
      () => setDocField('metadata', [null, [], 'x', { a: { b: 1 } }, { '': 1 }, { a: 'v'.repeat(257) }]),
    ],
    [
      'duplicate doc ids',
      () =>
        (value.documents = [
          { id: 'dup', text: 'a' },
          { id: 'dup', text: 'b' },
          { id: 'x', text: 'c', extra: 1 },
        ]),
    ],
    ['wait weird', () => (value.wait = pick(r, ['', 'all', 'APPLIED', 1, null, true]))],
    ['to weird', () => (value.to = pick(r, ['', 5, null, 'x'.repeat(65), 'no-such-node', '\ud800']))],
    ['node id weird', () => (value.id = pick(r, ['', 'a b', '../x', 'x'.repeat(65), 5, null, '\u0000']))],
    [
      'node url weird',
      () =>
        (value.url = pick(r, [
          '',
          'not a url',
          'javascript:alert(1)',
          'http://',
          `http://x/${'a'.repeat(600)}`,
          5,
          null,
        ])),
    ],
    [
      'priority weird',
      () => (value.priority = pick(r, [-1, 1001, 1.5, '5', null, Number.POSITIVE_INFINITY])),
    ],
    [
      'replace with weird value',
      () => void Object.keys(value).forEach((k) => (value[k] = pick(r, WEIRD_VALUES))),
    ],
  ];
  const applied: string[] = [];
  const times = 1 + Math.floor(r() * 3);
  for (let i = 0; i < times; i++) {
    const [label, mutate] = pick(r, mutations);
    mutate();
    applied.push(label);
  }
  // POST /api/v1/admin/nodes must never carry a valid registration (see the file comment).
  if (endpoint === 'POST /api/v1/admin/nodes') value.surely_unknown_field = true;
  return { label: applied.join(' + '), value };
}

function validBase(r: Random, endpoint: string): Record<string, unknown> {
  switch (endpoint) {
    case 'POST /api/v1/search':
      return { query: pick(r, ['vpn setup', 'expense claim', '报销']), top_k: 5 };
    case 'POST /v1/embeddings':
      return { model: 'gte-pro/glove-100d-demo', input: pick(r, ['vpn setup', ['expense claim', '报销']]) };
    case 'POST /api/v1/documents':
      return {
        documents: [
          { id: `fuzz-${Math.floor(r() * 1000)}`, text: 'fuzz document', metadata: { lang: 'en' } },
        ],
        wait: 'none',
      };
    case 'POST /api/v1/admin/switchover':
      return { to: 'node-1' };
    case 'POST /api/v1/admin/nodes':
      return { id: 'fuzz-node', url: 'http://127.0.0.1:9', priority: 1 };
    default:
      return {};
  }
}

const BAD_IDS: readonly string[] = [
  '..%2F..%2F',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '..',
  '.',
  '%00',
  'a%00b',
  '%ZZ',
  '%E0%A4%A',
  '%ED%A0%80',
  '%F0%9F%98%80',
  '%C0%80',
  '%25',
  '%20',
  'a%2Fb',
  'x'.repeat(5000),
  '%u0041',
  'id;rm%20-rf',
  'node-1',
  'fo-unknown-1',
  'UPPER',
  '-dash',
];

interface Endpoint {
  name: string;
  method: string;
  /** Path with `{id}` for a parameter. */
  path: string;
  auth: boolean;
  json: boolean;
}

export const ENDPOINTS: readonly Endpoint[] = [
  // Search and embeddings take the admin token as a key, so one token covers every `auth` route.
  { name: 'POST /api/v1/search', method: 'POST', path: '/api/v1/search', auth: true, json: true },
  { name: 'POST /v1/embeddings', method: 'POST', path: '/v1/embeddings', auth: true, json: true },
  { name: 'GET /v1/models', method: 'GET', path: '/v1/models', auth: true, json: false },
  { name: 'GET /health', method: 'GET', path: '/health', auth: false, json: false },
  { name: 'GET /api/v1/status', method: 'GET', path: '/api/v1/status', auth: false, json: false },
  { name: 'POST /api/v1/documents', method: 'POST', path: '/api/v1/documents', auth: true, json: true },
  {
    name: 'GET /api/v1/documents/:id',
    method: 'GET',
    path: '/api/v1/documents/{id}',
    auth: true,
    json: false,
  },
  {
    name: 'DELETE /api/v1/documents/:id',
    method: 'DELETE',
    path: '/api/v1/documents/{id}',
    auth: true,
    json: false,
  },
  { name: 'GET /api/v1/jobs/:id', method: 'GET', path: '/api/v1/jobs/{id}', auth: true, json: false },
  { name: 'GET /api/v1/failovers', method: 'GET', path: '/api/v1/failovers', auth: true, json: false },
  {
    name: 'GET /api/v1/failovers/:id',
    method: 'GET',
    path: '/api/v1/failovers/{id}',
    auth: true,
    json: false,
  },
  {
    name: 'POST /api/v1/admin/switchover',
    method: 'POST',
    path: '/api/v1/admin/switchover',
    auth: true,
    json: true,
  },
  { name: 'POST /api/v1/admin/nodes', method: 'POST', path: '/api/v1/admin/nodes', auth: true, json: true },
  {
    name: 'DELETE /api/v1/admin/nodes/:id',
    method: 'DELETE',
    path: '/api/v1/admin/nodes/{id}',
    auth: true,
    json: false,
  },
  { name: 'GET /metrics', method: 'GET', path: '/metrics', auth: false, json: false },
  { name: 'GET /status', method: 'GET', path: '/status', auth: false, json: false },
  { name: 'GET /openapi.json', method: 'GET', path: '/openapi.json', auth: false, json: false },
];

const PATH_TRICKS: readonly ((p: string) => string)[] = [
  (p) => `/${p}`,
  (p) => p.replace('/v1/', '/v1//'),
  (p) => `${p}/`,
  (p) => `${p}//`,
  (p) => p.toUpperCase(),
  (p) => p.replace('/api/', '/api/./'),
  (p) => p.replace('/api/', '/api/../api/'),
  (p) => p.replace('/api/', '/%61pi/'),
  (p) => `${p}?${'q='.repeat(1)}%ZZ`,
  (p) => `${p}?limit=${pick(mulberry32(p.length), ['abc', '0', '501', '1e3', '-1', '%00', '', '1.5'])}`,
  (p) => `${p}/${'deep/'.repeat(2000)}`,
  (p) => `${p}${'x'.repeat(9000)}`,
  (p) => `${p};jsessionid=1`,
  (p) => `${p}%2F..%2F..%2Fhealth`,
  (p) => `${p}%00`,
  (p) => `${p}%C3%A9`,
];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'];

/** `count` bad requests, endpoints in turn so each gets its share, mutation chosen at random. */
export function generateRequests(
  r: Random,
  count: number,
  ctx: { adminToken: string; nodeIds: string[] },
): FuzzRequest[] {
  const out: FuzzRequest[] = [];
  for (let i = 0; i < count; i++) {
    const ep = ENDPOINTS[i % ENDPOINTS.length]!;
    const headers: Record<string, string> = {};
    const labels: string[] = [];
    let method = ep.method;
    let path = ep.path.replace(
      '{id}',
      ep.path.includes('failovers') ? 'fo-abc-123' : ep.path.includes('nodes') ? 'fuzz-node' : 'doc-1',
    );
    let body: Buffer | undefined;

    if (ep.auth) {
      const token = pick(r, [
        'valid',
        'valid',
        'valid',
        'none',
        'empty',
        'wrong',
        'basic',
        'lowercase',
        'long',
        'spaces',
        'latin1',
      ]);
      labels.push(`token ${token}`);
      const value: Record<string, string | undefined> = {
        valid: `Bearer ${ctx.adminToken}`,
        none: undefined,
        empty: 'Bearer ',
        wrong: `Bearer ${ctx.adminToken.slice(0, -1)}x`,
        basic: `Basic ${Buffer.from(`admin:${ctx.adminToken}`).toString('base64')}`,
        lowercase: `bearer ${ctx.adminToken}`,
        long: `Bearer ${'a'.repeat(7000)}`,
        spaces: `Bearer    ${ctx.adminToken}   extra`,
        latin1: 'Bearer \u00e9\u00ff\u00fe',
      };
      const v = value[token];
      if (v !== undefined)
        headers.authorization = token === 'latin1' ? Buffer.from(v, 'latin1').toString('latin1') : v;
    }

    const kind = pick(
      r,
      ep.json
        ? ['raw body', 'json body', 'json body', 'json body', 'content type', 'path', 'method', 'id']
        : ['path', 'method', 'id', 'id', 'body on GET', 'query'],
    );
    labels.push(kind);
    if (ep.json) headers['content-type'] = 'application/json';
    switch (kind) {
      case 'raw body': {
        const b = badRawBody(r);
        labels.push(b.label);
        body = b.bytes;
        break;
      }
      case 'json body': {
        const b = badJsonBody(r, ep.name);
        labels.push(b.label);
        body = Buffer.from(JSON.stringify(b.value) ?? 'null');
        break;
      }
      case 'content type': {
        const ct = pick(r, [
          undefined,
          'text/plain',
          'application/jsonx',
          'application/json; charset=latin1',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
          '',
          'APPLICATION/JSON',
          'application/json, text/plain',
          '*/*',
        ]);
        labels.push(`content-type ${ct}`);
        if (ct === undefined) delete headers['content-type'];
        else headers['content-type'] = ct;
        const valid = validBase(r, ep.name);
        if (ep.name === 'POST /api/v1/admin/nodes') valid.surely_unknown_field = true;
        body = Buffer.from(JSON.stringify(valid));
        break;
      }
      case 'path': {
        const trick = pick(r, PATH_TRICKS);
        path = trick(path);
        labels.push('path trick');
        if (ep.json) body = Buffer.from(JSON.stringify(badJsonBody(r, ep.name).value) ?? 'null');
        break;
      }
      case 'method': {
        method = pick(
          r,
          METHODS.filter((m) => m !== ep.method),
        );
        labels.push(`method ${method}`);
        if (r() < 0.5) body = Buffer.from('{"query":"vpn"}');
        break;
      }
      case 'id': {
        if (ep.path.includes('{id}')) path = ep.path.replace('{id}', pick(r, BAD_IDS));
        else path = `${ep.path}/${pick(r, BAD_IDS)}`;
        labels.push('bad id');
        if (ep.json) body = Buffer.from(JSON.stringify(badJsonBody(r, ep.name).value) ?? 'null');
        break;
      }
      case 'body on GET': {
        const b = badRawBody(r);
        labels.push(b.label);
        body = b.bytes;
        headers['content-type'] = pick(r, ['application/json', 'text/plain']);
        break;
      }
      case 'query': {
        path = `${path}?${pick(r, ['limit=abc', 'limit=0', 'limit=501', 'limit=-5', 'limit=%ZZ', 'wait=bogus', 'wait=', 'wait=applied&wait=none', `x=${'y'.repeat(8000)}`, '%00=%00', 'a[b]=c'])}`;
        labels.push('bad query');
        break;
      }
    }
    // A DELETE of the only node (the master) is refused; deleting others cannot happen with one node.
    if (ep.name === 'DELETE /api/v1/admin/nodes/:id' && kind !== 'id' && r() < 0.3)
      path = `/api/v1/admin/nodes/${pick(r, ctx.nodeIds)}`;
    out.push({
      endpoint: ep.name,
      label: labels.join(', '),
      method,
      path,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
  }
  return out;
}
