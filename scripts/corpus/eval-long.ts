/**
 * The long documents of the evaluation set (eval-set.ts): regional handbooks of 10,000 to
 * 100,000 characters, several per region and domain, so every handbook has long look-alikes on
 * the same topics and sites. Each site-specific fact (how long the Lisbon office keeps CCTV
 * footage) is stated in exactly one handbook, among boilerplate that talks about the same topics
 * in general; the questions about facts stated past the first 2,000 characters make the `long`
 * category.
 */
import { intBetween, pick, type Random } from './random.ts';
import { syntheticDoc } from './synthetic.ts';

export const REGIONS: readonly { name: string; sites: readonly string[] }[] = [
  { name: 'Iberia', sites: ['Lisbon', 'Porto', 'Madrid', 'Valencia'] },
  { name: 'Central Europe', sites: ['Berlin', 'Munich', 'Vienna', 'Prague'] },
  { name: 'Nordics', sites: ['Oslo', 'Helsinki', 'Stockholm', 'Copenhagen'] },
  { name: 'North America East', sites: ['Toronto', 'Boston', 'Atlanta', 'Montreal'] },
  { name: 'North America West', sites: ['Seattle', 'Denver', 'Austin', 'Vancouver'] },
  { name: 'Asia Pacific', sites: ['Singapore', 'Sydney', 'Osaka', 'Seoul'] },
  { name: 'Latin America', sites: ['Santiago', 'Lima', 'Bogota', 'Monterrey'] },
  { name: 'Middle East and Africa', sites: ['Nairobi', 'Cairo', 'Dubai', 'Casablanca'] },
];

export interface LongTopic {
  key: string;
  domain: string;
  /** The fact as the handbook states it: {site}, {n}, {name}. */
  fact: string;
  /** Questions in the fact's own words, inflected or rearranged. */
  inflected: readonly string[];
  /** Questions in other words (synonyms, plainer phrasing). */
  synonym: readonly string[];
}

export const DOMAINS = ['Security', 'Facilities', 'IT operations', 'Office services'] as const;

export const LONG_TOPICS: readonly LongTopic[] = [
  {
    key: 'cctv',
    domain: 'Security',
    fact: 'CCTV footage recorded at the {site} office is kept for {n} days before it is overwritten.',
    inflected: [
      'how long is CCTV footage from the {site} office kept?',
      'CCTV recordings retention in {site}',
    ],
    synonym: [
      'how long do we store security camera video from the {site} office?',
      'retention of surveillance video in {site}',
    ],
  },
  {
    key: 'visitors',
    domain: 'Security',
    fact: 'Visitors to the {site} office sign in at the reception desk on floor {n} and are escorted at all times.',
    inflected: ['where do visitors sign in at the {site} office?', 'visitor reception in {site}'],
    synonym: [
      'where do guests register when they come to our {site} building?',
      'guest check-in at the {site} site',
    ],
  },
  {
    key: 'badge',
    domain: 'Security',
    fact: 'A lost access badge at the {site} office is replaced by the security desk for a fee of {n} euros.',
    inflected: [
      'replacing a lost badge in {site}',
      'what is the fee for a new access badge at the {site} office?',
    ],
    synonym: [
      'what does a new door card cost if I misplace mine in {site}?',
      'replacing a missing entry pass in {site}',
    ],
  },
  {
    key: 'drill',
    domain: 'Facilities',
    fact: 'Fire evacuation drills at the {site} site take place every {n} weeks, and the assembly point is {name}.',
    inflected: ['how often are fire drills in {site}?', 'evacuation drill schedule for {site}'],
    synonym: [
      'how often do we practise leaving the building in {site}?',
      'where do we gather when the alarm goes off in {site}?',
    ],
  },
  {
    key: 'parking',
    domain: 'Facilities',
    fact: 'Staff parking at the {site} campus is allocated by lottery every {n} months.',
    inflected: ['how is staff parking allocated in {site}?', 'parking lottery at the {site} campus'],
    synonym: [
      'how are car spaces handed out at the {site} office?',
      'getting a space for my vehicle in {site}',
    ],
  },
  {
    key: 'firstaid',
    domain: 'Facilities',
    fact: 'The {site} office has {n} trained first aiders per floor; the defibrillator hangs next to {name}.',
    inflected: ['where is the defibrillator in the {site} office?', 'first aiders at the {site} office'],
    synonym: [
      'who can give medical help in {site} if someone collapses?',
      'where is the AED in the {site} building?',
    ],
  },
  {
    key: 'serverroom',
    domain: 'IT operations',
    fact: 'Entry to the {site} server room is granted by {name} and every access list is reviewed after {n} days.',
    inflected: ['who grants entry to the {site} server room?', '{site} server room access'],
    synonym: ['who lets me into the data room in {site}?', 'approval to enter the {site} computer room'],
  },
  {
    key: 'restore',
    domain: 'IT operations',
    fact: 'File servers at the {site} site are backed up nightly, and a restore test runs every {n} days.',
    inflected: [
      'how often are restore tests run in {site}?',
      'backup restore testing for {site} file servers',
    ],
    synonym: [
      'how frequently do we check that lost files can be recovered in {site}?',
      'recovery checks for {site} shared drives',
    ],
  },
  {
    key: 'guestwifi',
    domain: 'IT operations',
    fact: 'The guest wireless password at the {site} office changes every {n} days and is shown on the screen at reception.',
    inflected: [
      'how often does the guest wireless password change in {site}?',
      'guest wireless at the {site} office',
    ],
    synonym: [
      'how often does the visitor wifi key change in {site}?',
      'where do I find the network code for visitors in {site}?',
    ],
  },
  {
    key: 'courier',
    domain: 'Office services',
    fact: 'Outgoing parcels at the {site} office are collected by {name} at {n}:00 each weekday.',
    inflected: [
      'when are outgoing parcels collected in {site}?',
      'parcel collection time at the {site} office',
    ],
    synonym: [
      'when does the courier pick up packages in {site}?',
      'last time to send a shipment from {site}',
    ],
  },
  {
    key: 'printing',
    domain: 'Office services',
    fact: 'Colour printing at the {site} office needs a cost code and is limited to {n} pages per person per month.',
    inflected: ['colour printing limit at the {site} office', 'how many colour pages can I print in {site}?'],
    synonym: ['how many prints in color am I allowed in {site}?', 'quota for copies in color at {site}'],
  },
  {
    key: 'disposal',
    domain: 'Office services',
    fact: 'Retired laptops from the {site} office are wiped and shredded by {name} within {n} days.',
    inflected: ['who wipes and shreds retired laptops in {site}?', 'retiring a laptop at the {site} office'],
    synonym: [
      'what happens to old notebooks from {site} when they are decommissioned?',
      'who destroys discarded computers in {site}?',
    ],
  },
];

const NAMES = [
  'the car park by gate B',
  'the main reception',
  'the lift lobby',
  'Greenway Couriers',
  'the facilities manager',
  'the IT site lead',
  'SecureShred',
  'the north entrance',
  'the staff kitchen',
  'Rapid Parcel',
];

/** A topic's fact at `site`, with its drawn values. */
export const factSentence = (rand: Random, topic: LongTopic, site: string): string =>
  topic.fact
    .replace('{site}', site)
    .replace('{n}', String(intBetween(rand, 2, 16)))
    .replace('{name}', pick(rand, NAMES));

/** Boilerplate of a domain: about its topics in general, never about one site's rule. */
const BOILERPLATE: Record<(typeof DOMAINS)[number], readonly string[]> = {
  Security: [
    'Security cameras cover every entrance and the loading bay.',
    'Report a lost badge to the security desk the same day.',
    'Visitors wear a visible pass and never enter secure areas alone.',
    'Footage is reviewed only after an incident report.',
    'Tailgating through access gates is a disciplinary matter.',
    'Keys and badges are returned on the last working day.',
  ],
  Facilities: [
    'Fire doors must never be propped open.',
    'The facilities team inspects emergency lighting every month.',
    'First aid kits are checked every quarter.',
    'Parking rules are posted at the garage entrance.',
    'Report broken furniture through the facilities portal.',
    'Heating and cooling follow the building timetable.',
  ],
  'IT operations': [
    'Backups are encrypted at rest and in transit.',
    'Server rooms are kept at 21 degrees and monitored for humidity.',
    'Guest wifi is separated from the corporate network.',
    'Changes to production systems need an approved change ticket.',
    'Access lists are reviewed by the system owner.',
    'Patches are installed in the monthly maintenance window.',
  ],
  'Office services': [
    'Printers release jobs only after a badge tap.',
    'Parcels above 30 kilograms need a freight booking.',
    'Old equipment is collected by a certified disposal partner.',
    'Meeting rooms are booked through the calendar.',
    'Stationery is ordered every Monday.',
    'Mail is sorted by 10:00 and delivered to each floor.',
  ],
};
const SITE_LINES = [
  'The {site} office is open from 7:00 to 19:00 on weekdays.',
  'The {site} site manager publishes a monthly newsletter.',
  'New joiners in {site} get a building tour in their first week.',
  'The {site} office follows the local public holiday calendar.',
  'Cleaning at the {site} office happens after 18:00.',
];

export interface LongDocument {
  title: string;
  text: string;
  /** The facts it states, with their character offsets. */
  facts: { topic: string; site: string; offset: number }[];
}

/**
 * A handbook of about `length` characters for `domain` in `region`, stating `facts` at random
 * places among its sections (some may land early; the set asks only about the deep ones).
 */
export function longDocument(
  rand: Random,
  domain: string,
  region: (typeof REGIONS)[number],
  part: number,
  facts: { topic: LongTopic; site: string }[],
  length: number,
  fillerSalt: string,
): LongDocument {
  const boiler = BOILERPLATE[domain as (typeof DOMAINS)[number]];
  const title = `${domain} handbook for the ${region.name} offices, part ${part}`;
  const head = `${title}. This handbook applies to the offices in ${region.sites.join(', ')}. It collects the ${domain.toLowerCase()} rules that staff, contractors and visitors follow, section by section. Local rules for one office are stated where they differ from the global policy.`;
  // Sentences to write, then the facts dropped among them at random places.
  const pieces: string[] = [];
  let size = head.length;
  let n = 0;
  while (size < length) {
    const sentence =
      rand() < 0.35
        ? pick(rand, boiler)
        : rand() < 0.25
          ? pick(rand, SITE_LINES).replace('{site}', pick(rand, region.sites))
          : capitalise(syntheticDoc(n++, fillerSalt).text);
    pieces.push(sentence);
    size += sentence.length + 1;
  }
  const placed = facts
    .map((f) => ({ ...f, at: intBetween(rand, 0, pieces.length) }))
    .sort((a, b) => a.at - b.at);
  let text = head;
  let section = 0;
  const stated: LongDocument['facts'] = [];
  let next = 0;
  for (let i = 0; i <= pieces.length; i++) {
    while (next < placed.length && placed[next]!.at === i) {
      const f = placed[next++]!;
      text += ' ';
      stated.push({ topic: f.topic.key, site: f.site, offset: text.length });
      text += factSentence(rand, f.topic, f.site);
    }
    if (i === pieces.length) break;
    if (i % 12 === 0) text += `\n\nSection ${++section}. ${pick(rand, boiler).replace(/\.$/, '')}.\n`;
    text += ` ${pieces[i]}`;
  }
  return { title, text: text.slice(0, 99_000), facts: stated.filter((f) => f.offset < 98_500) };
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
