/**
 * The identifiers of the evaluation set (eval-set.ts): error codes, host names, knowledge-base
 * ticket ids and 12-digit invoice codes, each in a family of near misses (PAY-7782 beside
 * PAY-7783 and PAY-7728, db-prod-07 beside db-prod-17 and db-stage-07), and the runbooks,
 * post-mortems, tickets and invoices that name them. Members of a family share their service,
 * vendor or topic, so the identifier is what tells their documents apart, as in real ticket
 * queues.
 */
import { intBetween, pick, type Random } from './random.ts';

export type IdentifierKind = 'error-code' | 'host' | 'ticket' | 'invoice';

export interface IdentifierFamily {
  kind: IdentifierKind;
  /** The family's shared subject: a service, a host role, a ticket topic or a vendor. */
  subject: string;
  members: string[];
}

const SERVICES: readonly [string, string][] = [
  ['PAY', 'payment gateway'],
  ['AUTH', 'single sign-on service'],
  ['SHIP', 'shipping label service'],
  ['INV', 'inventory service'],
  ['SYNC', 'calendar sync'],
  ['BILL', 'billing engine'],
  ['ORD', 'order service'],
  ['KYC', 'customer verification service'],
  ['VPN', 'remote access gateway'],
  ['RPT', 'reporting service'],
  ['MAIL', 'mail relay'],
  ['SCAN', 'document scanning service'],
];
const HOST_ROLES: readonly [string, string][] = [
  ['db', 'database'],
  ['api', 'API server'],
  ['cache', 'cache server'],
  ['kafka', 'message broker'],
  ['search', 'search server'],
  ['etl', 'data pipeline worker'],
  ['web', 'web server'],
  ['batch', 'batch job runner'],
];
const TICKET_TOPICS: readonly string[] = [
  'VPN disconnects every few minutes',
  'MFA token lost after a phone replacement',
  'shared mailbox not visible in Outlook',
  'printer on floor 3 prints blank pages',
  'laptop fails to boot after an update',
  'no access to the finance share',
  'Teams calls drop on the office wifi',
  'password reset link expired',
];
const VENDORS: readonly [string, string][] = [
  ['Northwind Traders', 'office supplies'],
  ['Contoso Cloud', 'cloud hosting'],
  ['Fabrikam Facilities', 'cleaning services'],
  ['Litware Security', 'penetration testing'],
  ['Adventure Works Travel', 'group travel'],
  ['Tailspin Logistics', 'freight'],
  ['Proseware Legal', 'contract review'],
  ['Wingtip Catering', 'catering'],
];

/** Near misses of a digit string: ±1, two neighbouring digits swapped, one digit changed. */
export function nearMissDigits(rand: Random, digits: string, count: number): string[] {
  const out = new Set<string>();
  const width = digits.length;
  const asNumber = (n: bigint) => (n < 0n ? null : n.toString().padStart(width, '0').slice(-width));
  const candidates = (): (string | null)[] => {
    const n = BigInt(digits);
    const i = intBetween(rand, Math.max(0, width - 4), width - 2);
    const swapped = digits.slice(0, i) + digits[i + 1] + digits[i] + digits.slice(i + 2);
    const j = intBetween(rand, Math.max(0, width - 4), width - 1);
    const changed =
      digits.slice(0, j) + String((Number(digits[j]) + intBetween(rand, 1, 9)) % 10) + digits.slice(j + 1);
    return [asNumber(n + 1n), asNumber(n - 1n), swapped, changed, asNumber(n + 10n)];
  };
  for (let tries = 0; out.size < count && tries < 20; tries++)
    for (const c of candidates()) if (c && c !== digits && out.size < count) out.add(c);
  return [...out];
}

const digitsOf = (rand: Random, width: number, lead = '') =>
  lead + Array.from({ length: width - lead.length }, () => String(intBetween(rand, 0, 9))).join('');

/** A family of `size` identifiers of `kind` (the first is the base, the others its near misses). */
export function identifierFamily(
  rand: Random,
  kind: IdentifierKind,
  index: number,
  size: number,
): IdentifierFamily {
  switch (kind) {
    case 'error-code': {
      const [prefix, service] = SERVICES[index % SERVICES.length]!;
      const base = String(intBetween(rand, 1000, 9899));
      return {
        kind,
        subject: service,
        members: [base, ...nearMissDigits(rand, base, size - 1)].map((d) => `${prefix}-${d}`),
      };
    }
    case 'host': {
      const [role, what] = HOST_ROLES[index % HOST_ROLES.length]!;
      const n = intBetween(rand, 1, 9);
      const same = (env: string, k: number) => `${role}-${env}-${String(k).padStart(2, '0')}`;
      const members = [
        same('prod', n),
        same('prod', n + 10),
        same('stage', n),
        same('prod', n + 1),
        same('prod', n * 10),
      ];
      return { kind, subject: what, members: members.slice(0, size) };
    }
    case 'ticket': {
      const base = digitsOf(rand, 7, '00');
      return {
        kind,
        subject: TICKET_TOPICS[index % TICKET_TOPICS.length]!,
        members: [base, ...nearMissDigits(rand, base, size - 1)].map((d) => `KB${d}`),
      };
    }
    case 'invoice': {
      const [vendor] = VENDORS[index % VENDORS.length]!;
      const base = digitsOf(rand, 12, '0');
      return { kind, subject: vendor, members: [base, ...nearMissDigits(rand, base, size - 1)] };
    }
  }
}

const SYMPTOMS = [
  'requests fail for some customers',
  'the nightly job stops half way',
  'users see a blank page',
  'responses take over 30 seconds',
  'the queue keeps growing',
];
const CAUSES = [
  'an expired certificate',
  'a full disk',
  'a stale cache entry',
  'a connection pool limit',
  'a bad configuration push',
  'a clock skew between hosts',
];
const FIXES = [
  'restart the service on the affected node',
  'renew the certificate and reload',
  'clear the cache for the tenant',
  'raise the pool size and redeploy',
  'roll back the last configuration change',
  'resync the clock and retry the job',
];
const STATUSES = [
  'paid',
  'on hold: missing purchase order',
  'disputed',
  'approved, awaiting payment run',
  'rejected: duplicate',
];
const TEAMS = ['finance', 'sales', 'support', 'engineering', 'legal', 'marketing'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const when = (rand: Random) =>
  `${intBetween(rand, 1, 28)} ${pick(rand, MONTHS)} ${intBetween(rand, 2023, 2026)}`;

/** The document that names `id` (a runbook, a post-mortem, a ticket or an invoice). */
export function identifierDocument(
  rand: Random,
  family: IdentifierFamily,
  id: string,
): { title: string; text: string } {
  const { subject } = family;
  switch (family.kind) {
    case 'error-code':
      return {
        title: `Runbook: ${id}`,
        text: `Runbook for error ${id} (${subject}). Symptom: ${pick(rand, SYMPTOMS)}. Likely cause: ${pick(rand, CAUSES)}. Resolution: ${pick(rand, FIXES)}, then confirm the error rate is back to normal on the ${subject} dashboard. Escalate to the ${subject} on-call if it returns within an hour.`,
      };
    case 'host':
      return {
        title: `Post-mortem: ${id}`,
        text: `Post-mortem for ${id} (${subject}), ${when(rand)}. What happened: ${pick(rand, SYMPTOMS)} for ${intBetween(rand, 5, 180)} minutes. Root cause: ${pick(rand, CAUSES)} on ${id}. Mitigation: the on-call engineer chose to ${pick(rand, FIXES)}. Follow-up: add an alert and a dashboard panel for ${id}.`,
      };
    case 'ticket':
      return {
        title: `${id}: ${subject}`,
        text: `Ticket ${id}: ${subject}. Opened by the ${pick(rand, TEAMS)} team on ${when(rand)}. Steps taken: checked the user's account, collected logs, reproduced on a test machine. Outcome: ${pick(rand, FIXES)}. Status: ${pick(rand, ['resolved', 'closed', 'waiting for the user', 'escalated to level 2'])}.`,
      };
    case 'invoice':
      return {
        title: `Invoice ${id}`,
        text: `Invoice ${id} from ${subject}, issued ${when(rand)}, amount ${intBetween(rand, 200, 90_000)} EUR, cost centre ${pick(rand, TEAMS)}. Status: ${pick(rand, STATUSES)}. Questions about this invoice go to accounts payable with the invoice code in the subject line.`,
      };
  }
}

const QUESTIONS: Record<IdentifierKind, readonly string[]> = {
  'error-code': [
    'what does error {id} mean?',
    'how do I fix {id}',
    '{id} keeps showing up in the logs',
    'runbook for {id}',
  ],
  host: ['what went wrong on {id}?', 'post-mortem for the {id} outage', 'root cause of the {id} incident'],
  ticket: ['status of ticket {id}', 'what was the fix in {id}', '{id}'],
  invoice: ['is invoice {id} paid?', 'invoice {id} status', 'who sent invoice {id}?'],
};

/** A question naming `id`, as someone pasting it from an alert, a ticket or a letter would ask. */
export const identifierQuestion = (rand: Random, kind: IdentifierKind, id: string): string =>
  pick(rand, QUESTIONS[kind]).replace('{id}', id);
