// Shared helpers for the SalesOps browser tests.
//
// Every test signs in itself (a fresh browser context per test) and creates its
// own uniquely named records, so the tests can run in any order against the one
// shared e2e database that scripts/test.sh prepares.

import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

export { expect };

export const BASE_URL = process.env.SALESOPS_URL ?? 'http://127.0.0.1:3100';
export const BASE_URL_2 = process.env.SALESOPS_URL_2 ?? 'http://127.0.0.1:3102';
export const KEYCLOAK_URL = process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8181';
export const PASSWORD = 'salesops-demo';

/** Display names of the demo users (server/src/demo.rs, keycloak/salesops-realm.json). */
export const USERS = {
  'kim.minjun': '김민준',
  'lee.seoyeon': '이서연',
  'park.jihoon': '박지훈',
  'choi.yuna': '최유나',
  'jung.admin': '정관리',
  'han.guest': '한손님',
} as const;
export type Username = keyof typeof USERS;

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
export async function submitKeycloakLogin(page: Page, username: string, password = PASSWORD): Promise<void> {
  await expect(page.locator('#username')).toBeVisible();
  expect(page.url().startsWith(KEYCLOAK_URL)).toBe(true);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
}

/**
 * Signs in through Keycloak: /accounts → Keycloak's login page → back on
 * /accounts. Users with a role end on the hydrated accounts list; han.guest
 * (no role) ends on the "no access" page.
 */
export async function signIn(page: Page, username: Username): Promise<void> {
  await page.goto('/accounts');
  await submitKeycloakLogin(page, username);
  await page.waitForURL(onApp('/accounts'));
  if (username === 'han.guest') {
    await expect(page.getByTestId('no-access')).toBeVisible();
    return;
  }
  await expect(page.getByTestId('current-user')).toContainText(USERS[username]);
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

/** Check digit of a Korean business registration number (port of app/src/domain.rs). */
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

/** Pipeline stages in board order, with their Korean names and default probabilities (migrations/…_deals.sql). */
export const STAGES = {
  lead: { name: '리드', probability: 10 },
  qualified: { name: '자격확인', probability: 20 },
  proposal: { name: '제안', probability: 40 },
  negotiation: { name: '협상', probability: 70 },
  won: { name: '수주', probability: 100 },
  lost: { name: '실주', probability: 0 },
} as const;
export type StageId = keyof typeof STAGES;

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
  await form.locator('#f-stage_id').selectOption(deal.stage ?? 'lead');
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
