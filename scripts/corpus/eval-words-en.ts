/**
 * English word lists for the evaluation set (eval-set.ts): expense and HR rules stated the way a
 * policy page states them, and asked the way employees ask. Every concept has the policy's words
 * (`doc`), the same roots put otherwise (`inflected`: "taxi" for "taxis", "reimbursement" for
 * "reimbursed") and other words for it (`synonym`: "a cab", "pay me back"). A question mixes the
 * two, so it shares little of its answer's wording, as questions to a real knowledge base do.
 */

export interface Concept {
  key: string;
  /** How a policy page says it. */
  doc: readonly string[];
  /** The same words in another inflection, order or construction (they share a root with `doc`). */
  inflected: readonly string[];
  /** Other words for it: synonyms and plainer phrasing that share no root with `doc`. */
  synonym: readonly string[];
}

/** Things a rule is about (doc: a plural noun phrase; the others: what someone would type). */
export const ITEMS: readonly Concept[] = [
  {
    key: 'taxi',
    doc: ['taxis', 'taxi and ride-hailing trips'],
    inflected: ['a taxi', 'taxi rides'],
    synonym: ['a cab', 'an uber'],
  },
  {
    key: 'hotel',
    doc: ['hotel stays', 'hotel rooms'],
    inflected: ['a hotel', 'staying in a hotel'],
    synonym: ['accommodation', 'lodging'],
  },
  {
    key: 'flight',
    doc: ['flights', 'airline tickets'],
    inflected: ['a flight', 'an airline ticket'],
    synonym: ['airfare', 'a plane ticket'],
  },
  {
    key: 'phone',
    doc: ['mobile phones', 'mobile phone plans'],
    inflected: ['my mobile phone', 'a phone plan'],
    synonym: ['a cellphone', 'a smartphone'],
  },
  {
    key: 'meal',
    doc: ['meals', 'restaurant meals'],
    inflected: ['a meal', 'restaurant bills'],
    synonym: ['food', 'dinner'],
  },
  {
    key: 'training',
    doc: ['training courses', 'external training sessions'],
    inflected: ['a training course', 'trainings'],
    synonym: ['a workshop', 'classes'],
  },
  {
    key: 'conference',
    doc: ['conference fees', 'conference registrations'],
    inflected: ['a conference', 'registering for a conference'],
    synonym: ['a seminar', 'an industry event'],
  },
  {
    key: 'car',
    doc: ['rental cars', 'car rentals'],
    inflected: ['a rental car', 'renting a car'],
    synonym: ['a hire vehicle', 'leasing a vehicle'],
  },
  {
    key: 'chair',
    doc: ['office chairs', 'ergonomic chairs'],
    inflected: ['an office chair', 'a chair'],
    synonym: ['seating', 'a desk seat'],
  },
  {
    key: 'gym',
    doc: ['gym memberships'],
    inflected: ['a gym membership', 'the gym'],
    synonym: ['a fitness club', 'a health club subscription'],
  },
  {
    key: 'internet',
    doc: ['home internet connections', 'home broadband subscriptions'],
    inflected: ['internet at home', 'broadband'],
    synonym: ['wifi at my house', 'a web connection'],
  },
  {
    key: 'visa',
    doc: ['visa fees', 'visa applications'],
    inflected: ['a visa', 'applying for a visa'],
    synonym: ['an entry permit', 'immigration paperwork'],
  },
  {
    key: 'parking',
    doc: ['parking fees', 'parking charges'],
    inflected: ['parking', 'parking my car'],
    synonym: ['a garage space', 'leaving my vehicle in a garage'],
  },
  {
    key: 'relocation',
    doc: ['relocation costs', 'relocation expenses'],
    inflected: ['relocating', 'a relocation'],
    synonym: ['moving house', 'moving to another city'],
  },
  {
    key: 'gift',
    doc: ['gifts to clients', 'client gifts'],
    inflected: ['a gift for a client', 'gifts for clients'],
    synonym: ['presents for customers', 'something nice for a customer'],
  },
  {
    key: 'software',
    doc: ['software licenses', 'software subscriptions'],
    inflected: ['a software license', 'licensed software'],
    synonym: ['an app subscription', 'a program for my computer'],
  },
  {
    key: 'glasses',
    doc: ['prescription glasses', 'eyeglasses'],
    inflected: ['glasses', 'prescription lenses'],
    synonym: ['spectacles', 'eyewear'],
  },
  {
    key: 'childcare',
    doc: ['childcare costs', 'childcare fees'],
    inflected: ['child care', 'a childcare fee'],
    synonym: ['daycare', 'a nursery for my kids'],
  },
  {
    key: 'tuition',
    doc: ['tuition fees', 'university tuition fees'],
    inflected: ['tuition', 'university fees'],
    synonym: ['a degree program', 'a masters degree'],
  },
  {
    key: 'monitor',
    doc: ['external monitors', 'computer monitors'],
    inflected: ['a monitor', 'an extra monitor'],
    synonym: ['a second screen', 'a display'],
  },
];

/** Who or when a rule applies to (doc: a trailing phrase). */
export const CONDITIONS: readonly Concept[] = [
  {
    key: 'airport',
    doc: ['for airport transfers'],
    inflected: ['for a transfer to the airport', 'to the airport'],
    synonym: ['to catch a plane', 'to the terminal for my departure'],
  },
  {
    key: 'abroad',
    doc: ['on international business trips'],
    inflected: ['on an international trip', 'for international travel'],
    synonym: ['when travelling abroad', 'overseas'],
  },
  {
    key: 'newhire',
    doc: ['for new hires'],
    inflected: ['for a new hire', 'for newly hired staff'],
    synonym: ['for someone who just joined', 'for recent joiners'],
  },
  {
    key: 'contractor',
    doc: ['for contractors'],
    inflected: ['for a contractor', 'for contract workers'],
    synonym: ['for freelancers', 'for external consultants'],
  },
  {
    key: 'probation',
    doc: ['during the probation period'],
    inflected: ['while on probation', 'in my probationary period'],
    synonym: ['in my first three months', 'before I am confirmed in the job'],
  },
  {
    key: 'parttime',
    doc: ['for part-time staff'],
    inflected: ['if I work part-time', 'for part-timers'],
    synonym: ['for people working reduced hours', 'if I only work three days a week'],
  },
  {
    key: 'weekend',
    doc: ['on weekends and public holidays'],
    inflected: ['on a weekend', 'on a public holiday'],
    synonym: ['on a saturday', 'on a sunday'],
  },
  {
    key: 'client',
    doc: ['for client visits'],
    inflected: ['when visiting a client', 'for a client visit'],
    synonym: ['when meeting a customer', 'for a customer meeting'],
  },
  {
    key: 'intern',
    doc: ['for interns'],
    inflected: ['for an intern', 'for my internship'],
    synonym: ['for students on placement', 'for a trainee'],
  },
  {
    key: 'remote',
    doc: ['for remote employees'],
    inflected: ['for remote workers', 'if I am a remote employee'],
    synonym: ['when working from home', 'for people who work from home'],
  },
  {
    key: 'executive',
    doc: ['for senior executives'],
    inflected: ['for executives', 'for an executive'],
    synonym: ['for directors', 'for the leadership team'],
  },
  {
    key: 'latenight',
    doc: ['for late-night work'],
    inflected: ['when working late at night', 'for late nights'],
    synonym: ['after staying at the office until midnight', 'for overtime in the evening'],
  },
];

/**
 * What a rule says. Templates take {Item}/{item}, {cond}, {amount}, {days}; `doc` is a full
 * sentence of the policy, the others a question or a search-box phrase.
 */
export const ACTIONS: readonly Concept[] = [
  {
    key: 'reimburse',
    doc: ['{Item} {cond} are reimbursed by the company.', 'The company reimburses {item} {cond} in full.'],
    inflected: ['reimbursement for {item} {cond}', 'is {item} {cond} reimbursable?'],
    synonym: [
      'can I get my money back for {item} {cond}?',
      'will the company pay me back for {item} {cond}?',
    ],
  },
  {
    key: 'approval',
    doc: [
      '{Item} {cond} require written approval from your line manager in advance.',
      'Prior approval by your line manager is required for {item} {cond}.',
    ],
    inflected: ['does {item} {cond} need approving?', 'who approves {item} {cond}?'],
    synonym: ['does my boss have to sign off on {item} {cond}?', 'permission needed for {item} {cond}'],
  },
  {
    key: 'cap',
    doc: [
      '{Item} {cond} are capped at {amount} per month.',
      'A monthly limit of {amount} applies to {item} {cond}.',
    ],
    inflected: ['what is the cap on {item} {cond}?', 'limits for {item} {cond} each month'],
    synonym: ['what is the maximum I can spend on {item} {cond}?', 'how much is allowed for {item} {cond}?'],
  },
  {
    key: 'purchase',
    doc: [
      '{Item} {cond} must be purchased through the ProcureHub catalogue.',
      'Use the ProcureHub catalogue to purchase {item} {cond}.',
    ],
    inflected: ['how do I purchase {item} {cond}?', 'purchasing {item} {cond}'],
    synonym: ['where do I buy {item} {cond}?', 'which shop do I order {item} {cond} from?'],
  },
  {
    key: 'tax',
    doc: [
      '{Item} {cond} are treated as a taxable benefit on your payslip.',
      'Payroll reports {item} {cond} as a taxable benefit.',
    ],
    inflected: ['is {item} {cond} taxed?', 'taxes on {item} {cond}'],
    synonym: ['does {item} {cond} count as part of my salary?', 'is {item} {cond} counted as income?'],
  },
  {
    key: 'receipt',
    doc: [
      '{Item} {cond} need an itemised receipt attached to the claim.',
      'Attach an itemised receipt when you claim {item} {cond}.',
    ],
    inflected: ['do I need receipts for {item} {cond}?', 'receipt needed for {item} {cond}'],
    synonym: [
      'what proof of purchase do I need for {item} {cond}?',
      'which paperwork must I keep for {item} {cond}?',
    ],
  },
  {
    key: 'deadline',
    doc: [
      '{Item} {cond} must be claimed within {days} days.',
      'Claims for {item} {cond} are accepted for {days} days only.',
    ],
    inflected: ['how long do I have to claim {item} {cond}?', 'how many days to claim {item} {cond}?'],
    synonym: ['is there a time limit to file an expense for {item} {cond}?', 'deadline for {item} {cond}'],
  },
];

/** Sentences that follow a rule on its page: true of every rule, so they tell none apart. */
export const RULE_DETAILS: readonly string[] = [
  'Questions go to the finance helpdesk through the service portal.',
  'This rule applies to all legal entities unless a local annex says otherwise.',
  'Exceptions are decided by the finance controller of your region.',
  'Claims are paid with the next salary run after approval.',
  'Amounts in other currencies are converted at the rate on the day of the expense.',
  'The policy owner reviews this section every year.',
  'Managers who approve a claim confirm that it follows this policy.',
  'Repeated breaches are reported to the compliance team.',
  'See the travel and expense handbook for the full list of rules.',
  'Internal audit samples claims every quarter.',
];

/** Headings of the policy pages the rules sit on. */
export const POLICY_PAGES: readonly string[] = [
  'Travel and expense policy',
  'Employee benefits guide',
  'Procurement rules',
  'Workplace equipment policy',
  'Payroll and tax notes',
  'Learning and development policy',
];
