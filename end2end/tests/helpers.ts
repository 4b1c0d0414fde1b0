// Shared helpers for the SalesOps browser tests.
//
// Every test signs in itself (a fresh browser context per test) and creates its
// own uniquely named records, so the tests can run in any order against the one
// shared e2e database that scripts/test.sh prepares.

import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

export { expect };

export const BASE_URL = process.env.SALESOPS_URL ?? 'http://127.0.0.1:3100';
export const BASE_URL_2 = process.env.SALESOPS_URL_2 ?? 'http://127.0.0.1:3102';
export const KEYCLOAK_URL = process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8181';

/** The repository's root (this file is end2end/tests/helpers.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

// ---------------------------------------------------------------- demo users
//
// One source: keycloak/salesops-realm.json, the realm scripts/test.sh imports
// into Keycloak, read here once when the tests load. Usernames, passwords and
// realm roles are taken as they are; display names are built the way the
// server builds them from the ID token (server/src/oidc.rs: family name then
// given name, no space; else the full name; else the username). Users who have
// not signed in yet carry the names server/src/demo.rs seeds, which are the
// same people and the same names.

const REALM_FILE = path.join(REPO_ROOT, 'keycloak', 'salesops-realm.json');

interface RealmCredential {
  type?: string;
  value?: string;
  temporary?: boolean;
}

interface RealmUser {
  username: string;
  enabled?: boolean;
  firstName?: string;
  lastName?: string;
  email?: string;
  credentials?: RealmCredential[];
  realmRoles?: string[];
}

interface RealmExport {
  realm: string;
  roles?: { realm?: { name: string }[] };
  users?: RealmUser[];
}

export interface DemoUser {
  username: string;
  /** What the header, owner lists and history show (the server's `display_name`). */
  displayName: string;
  email: string | undefined;
  /** The realm roles given to the user in the realm file. */
  roles: readonly string[];
  /** Holds at least one of the realm's own roles (han.guest holds none: the "no access" page). */
  hasAccess: boolean;
  /** The non-temporary password credential, if the realm file gives one. */
  password: string | undefined;
}

function readRealm(): RealmExport {
  try {
    return JSON.parse(readFileSync(REALM_FILE, 'utf8')) as RealmExport;
  } catch (e) {
    throw new Error(`cannot read the demo users from ${REALM_FILE}: ${e}`);
  }
}

/** The display name the server gives this user on sign-in (server/src/oidc.rs). */
function serverDisplayName(u: RealmUser): string {
  // Korean order: family name first (the ID token's family_name + given_name).
  if (u.lastName && u.firstName) return `${u.lastName}${u.firstName}`;
  // Otherwise the token's `name`, which Keycloak builds as "first last" from what there is.
  const full = [u.firstName, u.lastName].filter((n) => !!n).join(' ');
  return full || u.username;
}

const REALM = readRealm();

/** The realm's name, as in Keycloak's URLs (/realms/<name>/…). */
export const REALM_NAME = REALM.realm;

/** The realm's own roles (sales-rep, sales-manager, …): the roles SalesOps knows. */
export const APP_ROLES: readonly string[] = (REALM.roles?.realm ?? []).map((r) => r.name);

/** Every user of the realm file, in its order. */
export const DEMO_USERS: readonly DemoUser[] = (REALM.users ?? []).map((u) => {
  const roles = u.realmRoles ?? [];
  const password = u.credentials?.find((c) => c.type === 'password' && !c.temporary)?.value;
  return {
    username: u.username,
    displayName: serverDisplayName(u),
    email: u.email,
    roles,
    hasAccess: roles.some((r) => APP_ROLES.includes(r)),
    password,
  };
});

if (DEMO_USERS.length === 0) throw new Error(`${REALM_FILE} has no users`);

/** A username of the realm file (checked when looked up: see `user`). */
export type Username = string;

/** The demo user with this username; throws for a name the realm file does not have. */
export function user(username: Username): DemoUser {
  const found = DEMO_USERS.find((u) => u.username === username);
  if (!found) {
    const known = DEMO_USERS.map((u) => u.username).join(', ');
    throw new Error(`no user "${username}" in ${REALM_FILE} (it has: ${known})`);
  }
  return found;
}

/** The display name the app shows for this demo user, e.g. "김민준" for kim.minjun. */
export function displayName(username: Username): string {
  return user(username).displayName;
}

/** The demo user's password from the realm file. */
export function passwordOf(username: Username): string {
  const { password } = user(username);
  if (password === undefined) throw new Error(`${REALM_FILE}: "${username}" has no non-temporary password credential`);
  return password;
}

// ---------------------------------------------------------------- hydration

const jsEnabled = new WeakMap<BrowserContext, boolean>();

async function prepareContext(context: BrowserContext, javaScriptEnabled: boolean): Promise<void> {
  jsEnabled.set(context, javaScriptEnabled);
}

/** `test` whose default context remembers whether JavaScript is on. */
export const test = base.extend({
  context: async ({ context, javaScriptEnabled }, use) => {
    await prepareContext(context, javaScriptEnabled !== false);
    await use(context);
  },
});

/** An extra context (e.g. a second user), prepared like the default one. */
export async function newContext(browser: Browser, javaScriptEnabled = true): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: BASE_URL, locale: 'ko-KR', javaScriptEnabled });
  await prepareContext(context, javaScriptEnabled);
  return context;
}

/** Waits until a server-rendered app page is interactive (no-op with JavaScript off). */
export async function ready(page: Page): Promise<void> {
  if (jsEnabled.get(page.context()) === false) return;
  try {
    // The app sets <html data-hydrated> once hydration has finished, i.e.
    // after the page's lazily loaded code has arrived and taken over the DOM.
    await page.locator('html[data-hydrated]').waitFor({ state: 'attached', timeout: 30_000 });
  } catch (e) {
    throw new Error(
      `${page.url()} did not hydrate: was the WASM under /pkg/ served (a 404 means the server binary and target/site disagree)? ${e}`,
    );
  }
}

/** Navigates to an app page and waits until it is interactive. */
export async function open(page: Page, path: string) {
  const response = await page.goto(path);
  await ready(page);
  return response;
}

// ---------------------------------------------------------------- sign-in

/** True when `url` is `path` (optionally with a query) on the app at `base`. */
export function onApp(path: string | RegExp, base = BASE_URL) {
  const origin = new URL(base).origin;
  return (url: URL) =>
    url.origin === origin && (typeof path === 'string' ? url.pathname === path : path.test(url.pathname));
}

/** Fills in Keycloak's login form (the page must be on it). */
export async function submitKeycloakLogin(page: Page, username: string, password = passwordOf(username)): Promise<void> {
  await expect(page.locator('#username')).toBeVisible();
  expect(page.url().startsWith(KEYCLOAK_URL)).toBe(true);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
}

/**
 * Signs in through Keycloak: /accounts → Keycloak's login page → back on
 * /accounts. Users with a role end on the hydrated accounts list; a user
 * without one of the realm's roles (han.guest) ends on the "no access" page.
 */
export async function signIn(page: Page, username: Username): Promise<void> {
  const who = user(username);
  await page.goto('/accounts');
  await submitKeycloakLogin(page, username);
  await page.waitForURL(onApp('/accounts'));
  if (!who.hasAccess) {
    await expect(page.getByTestId('no-access')).toBeVisible();
    return;
  }
  await expect(page.getByTestId('current-user')).toContainText(who.displayName);
  await ready(page);
}

// ---------------------------------------------------------------- test data

const NUMERALS = ['영', '일', '이', '삼', '사', '오', '육', '칠', '팔', '구'];

/** Random decimal digits (not derived from the clock alone, so parallel runs differ). */
export function randomDigits(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 1e9).toString().padStart(9, '0');
  return s.slice(0, n);
}

/** A Korean word unique to this test: random digits read as Sino-Korean numerals (e.g. "칠삼오일…"). */
export function koreanTag(syllables = 8): string {
  return [...randomDigits(syllables)].map((d) => NUMERALS[Number(d)]).join('');
}

/** A unique ASCII name, e.g. for contacts or fields where Korean is not the point. */
export function uniqueName(prefix = 'e2e'): string {
  return `${prefix}-${Date.now()}-${randomDigits(6)}`;
}

/** Check digit of a Korean business registration number (port of kit/src/domain.rs). */
export function businessCheckDigit(nine: string): number {
  if (!/^\d{9}$/.test(nine)) throw new Error(`need nine digits, got ${nine}`);
  const d = [...nine].map(Number);
  const weights = [1, 3, 7, 1, 3, 7, 1, 3, 5];
  let sum = d.reduce((acc, x, i) => acc + x * weights[i], 0);
  sum += Math.floor((d[8] * 5) / 10);
  return (10 - (sum % 10)) % 10;
}

/** "123-45-67890" */
export function dashed(digits: string): string {
  return `${digits.slice(0, 3)}-${digits.slice(3, 5)}-${digits.slice(5)}`;
}

/** A valid business number with a random prefix, as 10 bare digits. */
export function validBusinessNumber(): string {
  // Avoid the demo data's 12081xxxx range and a leading zero.
  const nine = `9${randomDigits(8)}`;
  return `${nine}${businessCheckDigit(nine)}`;
}

/** The same number with a wrong check digit. */
export function withWrongCheckDigit(digits: string): string {
  return `${digits.slice(0, 9)}${(Number(digits[9]) + 1) % 10}`;
}

// ---------------------------------------------------------------- app pages

/** The account form's own submit button (the header's sign-out is a submit button too). */
export function accountSubmit(page: Page) {
  return page.locator('[data-testid=account-form] button[type=submit]');
}

/** Searches the accounts list (on /accounts) with the filter form. */
export async function searchAccounts(page: Page, q: string): Promise<void> {
  const filters = page.locator('form.filters');
  await filters.locator('input[name=q]').fill(q);
  await filters.getByRole('button', { name: /^(검색|Search)$/ }).click();
  await page.waitForURL((url) => onApp('/accounts')(url) && url.searchParams.get('q') === q);
}

/** The account's id from a detail or edit URL. */
export function accountIdFrom(url: string): string {
  const m = /\/accounts\/([0-9a-f-]{36})/.exec(url);
  if (!m) throw new Error(`no account id in ${url}`);
  return m[1];
}

/** Opens /accounts filtered on one owner (chosen by display name) and returns the rows. */
export async function accountsOwnedBy(page: Page, ownerName: string) {
  await open(page, '/accounts');
  const filters = page.locator('form.filters');
  await filters.locator('select[name=owner]').selectOption({ label: ownerName });
  await filters.getByRole('button', { name: /^(검색|Search)$/ }).click();
  await page.waitForURL((url) => onApp('/accounts')(url) && !!url.searchParams.get('owner'));
  const rows = page.getByTestId('account-list').locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  return rows;
}

/** Headers of a same-origin API call made outside a form (JSON answer wanted). */
export function apiHeaders(origin = new URL(BASE_URL).origin): Record<string, string> {
  return { Origin: origin, Accept: 'application/json' };
}

// ---------------------------------------------------------------- deals

// Pipeline stages are data (the `stages` table), seeded by the `insert into
// stages` of a migration. The tests read them from that migration, parsed
// below, rather than from the running app (POST /api/deals/stages) or the e2e
// database:
// - the migration is the source the app is seeded from, so what the tests
//   expect stays independent of the code under test: a server that mislabelled
//   or misweighted a stage would otherwise agree with itself and pass;
// - it is read synchronously when the tests load, so any test (and any helper
//   such as `createDeal`) has it before signing in, without a session, an extra
//   request, or a Postgres client (end2end has none and gets no new dependency).
// The parse is kept from going quietly stale or wrong: it tokenizes the SQL
// (strings, comments, dollar quotes), maps values by the insert's column list
// (so column order and spacing do not matter), checks every value's type, and
// throws if the migrations hold anything else that writes stage rows (a second
// insert, an update, a delete…): then this reader must learn about it.

const MIGRATIONS_DIR = path.join(REPO_ROOT, 'migrations');

/** A pipeline stage, as the migration seeds it. */
export interface Stage {
  id: string;
  /** Board order, from 1. */
  position: number;
  /** Korean name (`name_ko`): what the pages show in the tests' ko-KR browser. */
  name: string;
  /** English name (`name_en`). */
  nameEn: string;
  /** Default probability in percent (`default_probability`). */
  probability: number;
  isWon: boolean;
  isLost: boolean;
}

/** A stage id of the `stages` table (checked when looked up: see `stage`). */
export type StageId = string;

type SqlToken =
  | { kind: 'word'; text: string } // identifiers and keywords, lower-cased unless quoted
  | { kind: 'string'; text: string; dollar: boolean }
  | { kind: 'number'; text: string }
  | { kind: 'punct'; text: string };

/** Splits SQL into tokens, dropping white space and comments. */
function sqlTokens(sql: string, file: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  const at = (re: RegExp, i: number) => {
    re.lastIndex = i;
    return re.exec(sql);
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (sql.startsWith('--', i)) {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? sql.length : eol + 1;
    } else if (sql.startsWith('/*', i)) {
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) throw new Error(`${file}: unterminated comment`);
      i = close + 2;
    } else if (c === "'") {
      let text = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw new Error(`${file}: unterminated string`);
        if (sql[i] === "'") {
          if (sql[i + 1] !== "'") break;
          text += "'";
          i += 2;
        } else {
          text += sql[i++];
        }
      }
      i++;
      tokens.push({ kind: 'string', text, dollar: false });
    } else if (c === '"') {
      const close = sql.indexOf('"', i + 1);
      if (close < 0) throw new Error(`${file}: unterminated quoted identifier`);
      tokens.push({ kind: 'word', text: sql.slice(i + 1, close) });
      i = close + 1;
    } else {
      const dollar = at(/\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y, i);
      const word = at(/[A-Za-z_][A-Za-z0-9_$]*/y, i);
      const number = at(/\d+(?:\.\d+)?/y, i);
      if (dollar) {
        const tag = dollar[0];
        const close = sql.indexOf(tag, i + tag.length);
        if (close < 0) throw new Error(`${file}: unterminated ${tag} quote`);
        tokens.push({ kind: 'string', text: sql.slice(i + tag.length, close), dollar: true });
        i = close + tag.length;
      } else if (word) {
        tokens.push({ kind: 'word', text: word[0].toLowerCase() });
        i += word[0].length;
      } else if (number) {
        tokens.push({ kind: 'number', text: number[0] });
        i += number[0].length;
      } else {
        tokens.push({ kind: 'punct', text: c });
        i++;
      }
    }
  }
  return tokens;
}

/** The statements of a token list (split on semicolons). */
function sqlStatements(tokens: SqlToken[]): SqlToken[][] {
  const statements: SqlToken[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'punct' && t.text === ';') statements.push([]);
    else statements[statements.length - 1].push(t);
  }
  return statements.filter((s) => s.length > 0);
}

const isWord = (t: SqlToken | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.text);
const isPunct = (t: SqlToken | undefined, p: string) => t?.kind === 'punct' && t.text === p;

/** What a statement does to the stages table's rows: 'insert', another write, or nothing. */
function stageWrite(st: SqlToken[]): 'insert' | 'other' | undefined {
  const w = (k: number) => (st[k]?.kind === 'word' ? st[k].text : undefined);
  const targets = (k: number) => w(k) === 'stages' || (w(k) === 'only' && w(k + 1) === 'stages');
  if (w(0) === 'insert' && w(1) === 'into' && w(2) === 'stages') return 'insert';
  if (w(0) === 'update' && targets(1)) return 'other';
  if (w(0) === 'delete' && w(1) === 'from' && targets(2)) return 'other';
  if (w(0) === 'truncate' && (targets(1) || (w(1) === 'table' && targets(2)))) return 'other';
  if ((w(0) === 'merge' && w(1) === 'into' && w(2) === 'stages') || (w(0) === 'copy' && w(1) === 'stages')) return 'other';
  if (w(0) === 'drop' && w(1) === 'table' && st.some((t, k) => k > 1 && isWord(t, 'stages'))) return 'other';
  // Function bodies and DO blocks (dollar-quoted) that touch stage rows.
  const inBody = /\b(insert\s+into|update|delete\s+from|truncate(\s+table)?)\s+(only\s+)?stages\b/i;
  if (st.some((t) => t.kind === 'string' && t.dollar && inBody.test(t.text))) return 'other';
  return undefined;
}

/** The rows of `insert into stages (columns) values (…), (…)`, as column → value. */
function insertedRows(st: SqlToken[], file: string): Map<string, string | number | boolean | null>[] {
  const fail = (what: string): never => {
    throw new Error(`${file}: cannot read the insert into stages (${what}); update readStages() in end2end/tests/helpers.ts`);
  };
  let k = 3; // after "insert into stages"
  if (!isPunct(st[k++], '(')) fail('no column list');
  const columns: string[] = [];
  for (;;) {
    const t = st[k++];
    if (t?.kind !== 'word') fail('a column name expected');
    columns.push(t!.text);
    if (isPunct(st[k], ',')) k++;
    else if (isPunct(st[k], ')')) break;
    else fail('"," or ")" expected in the column list');
  }
  k++;
  if (!isWord(st[k++], 'values')) fail('only "values (…)" is understood');
  const rows: Map<string, string | number | boolean | null>[] = [];
  for (;;) {
    if (!isPunct(st[k++], '(')) fail('a row expected');
    const values: (string | number | boolean | null)[] = [];
    for (;;) {
      let t = st[k++];
      let sign = 1;
      if (isPunct(t, '-')) {
        sign = -1;
        t = st[k++];
      }
      if (t?.kind === 'string' && sign === 1) values.push(t.text);
      else if (t?.kind === 'number') values.push(sign * Number(t.text));
      else if (isWord(t, 'true', 'false') && sign === 1) values.push(t!.text === 'true');
      else if (isWord(t, 'null') && sign === 1) values.push(null);
      else fail(`a literal expected, got ${JSON.stringify(t?.text)}`);
      if (isPunct(st[k], ',')) k++;
      else if (isPunct(st[k], ')')) break;
      else fail('"," or ")" expected in a row');
    }
    k++;
    if (values.length !== columns.length) fail(`a row has ${values.length} values for ${columns.length} columns`);
    rows.push(new Map(columns.map((c, n) => [c, values[n]])));
    if (isPunct(st[k], ',')) k++;
    else if (k === st.length) break;
    else fail(`unexpected ${JSON.stringify(st[k].text)} after the rows (e.g. "on conflict" is not understood)`);
  }
  return rows;
}

/** The stages the migrations seed, in board order (see the comment above). */
function readStages(): Stage[] {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  const inserts: { file: string; statement: SqlToken[] }[] = [];
  for (const name of files) {
    const file = path.join('migrations', name);
    for (const statement of sqlStatements(sqlTokens(readFileSync(path.join(MIGRATIONS_DIR, name), 'utf8'), file))) {
      const write = stageWrite(statement);
      if (write === 'other' || (write === 'insert' && inserts.length > 0)) {
        throw new Error(
          `${file} changes the seeded stages after ${inserts[0]?.file ?? 'their creation'}; ` +
            'readStages() in end2end/tests/helpers.ts reads a single insert only: teach it the change',
        );
      }
      if (write === 'insert') inserts.push({ file, statement });
    }
  }
  if (inserts.length === 0) throw new Error(`no "insert into stages" in ${MIGRATIONS_DIR}/*.sql`);
  const { file, statement } = inserts[0];
  const stages = insertedRows(statement, file).map((row): Stage => {
    const get = <T extends 'string' | 'number' | 'boolean'>(column: string, type: T, fallback?: unknown) => {
      const v = row.has(column) ? row.get(column) : fallback;
      if (typeof v !== type) throw new Error(`${file}: stages.${column} should be a ${type}, is ${JSON.stringify(v)}`);
      return v as T extends 'string' ? string : T extends 'number' ? number : boolean;
    };
    return {
      id: get('id', 'string'),
      position: get('position', 'number'),
      name: get('name_ko', 'string'),
      nameEn: get('name_en', 'string'),
      probability: get('default_probability', 'number'),
      // The table's defaults when a column is left out.
      isWon: get('is_won', 'boolean', false),
      isLost: get('is_lost', 'boolean', false),
    };
  });
  return stages.sort((a, b) => a.position - b.position);
}

/** Pipeline stages in board order, with their names and default probabilities (migrations/…_deals.sql). */
export const STAGES: readonly Stage[] = readStages();

/** The stage with this id; throws for an id the migrations do not seed (a typo in a test). */
export function stage(id: StageId): Stage {
  const found = STAGES.find((s) => s.id === id);
  if (!found) throw new Error(`no stage "${id}" in the migrations (they seed: ${STAGES.map((s) => s.id).join(', ')})`);
  return found;
}

/** A date `offsetDays` from today (the browser's local calendar), as the date input wants it: "2026-11-24". */
export function isoDate(offsetDays = 0): string {
  const d = new Date();
  d.setDate(d.getDate() + offsetDays);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The deal form's own submit button. */
export function dealSubmit(page: Page) {
  return page.locator('[data-testid=deal-form] button[type=submit]');
}

/** The deal's id from a detail or edit URL. */
export function dealIdFrom(url: string): string {
  const m = /\/deals\/([0-9a-f-]{36})/.exec(url);
  if (!m) throw new Error(`no deal id in ${url}`);
  return m[1];
}

export interface NewDeal {
  accountId: string;
  name: string;
  stage?: StageId;
  /** Empty (the default) leaves the amount blank. */
  amount?: string;
  currency?: 'KRW' | 'USD';
  closeDate?: string;
  /** Display name of the owner (managers only; others own what they create). */
  owner?: string;
}

/** Creates a deal through /deals/new?account=… and returns its id (the page ends on the new deal). */
export async function createDeal(page: Page, deal: NewDeal): Promise<string> {
  await open(page, `/deals/new?account=${deal.accountId}`);
  const form = page.getByTestId('deal-form');
  await form.locator('#f-name').fill(deal.name);
  await form.locator('#f-stage_id').selectOption(stage(deal.stage ?? STAGES[0].id).id); // default: the first stage (lead)
  await form.locator('#f-amount').fill(deal.amount ?? '');
  await form.locator('#f-currency').selectOption(deal.currency ?? 'KRW');
  if (deal.closeDate !== undefined) await form.locator('#f-expected_close_date').fill(deal.closeDate);
  if (deal.owner !== undefined) await form.locator('#f-owner_id').selectOption({ label: deal.owner });
  await dealSubmit(page).click();
  await page.waitForURL((url) => onApp(/^\/deals\/[0-9a-f-]{36}$/)(url) && url.searchParams.get('notice') === 'created');
  await ready(page);
  await expect(page.getByTestId('deal-name')).toHaveText(deal.name);
  return dealIdFrom(page.url());
}
