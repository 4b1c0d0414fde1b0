// The pipeline dashboard as a manager reads it: a new deal's value shows in
// its stage and its close month, and moves when the deal moves on the board;
// with JavaScript off every chart is there (drawn on the server).

import type { Page } from '@playwright/test';
import {
  accountsOwnedBy,
  createDeal,
  displayName,
  expect,
  isoDate,
  koreanTag,
  open,
  signIn,
  stage,
  test,
} from './helpers';

const PARK = 'park.jihoon';

/** The whole-won number in a money cell ("12,345,678원" → 12345678); 0 when the row is absent. */
async function won(page: Page, selector: string, column: number): Promise<number> {
  const row = page.locator(selector);
  if ((await row.count()) === 0) return 0;
  const text = (await row.first().locator('td').nth(column).textContent()) ?? '';
  return Number(text.replace(/[^0-9]/g, '') || '0');
}

/** The open pipeline (amount column) of one stage, KRW, on the dashboard as filtered. */
function stageAmount(page: Page, stageId: string): Promise<number> {
  return won(page, `[data-testid=panel-pipeline] tr[data-stage="${stage(stageId).id}"]`, 2);
}

/** The weighted forecast (expected column) of the month `date` falls in. */
function monthExpected(page: Page, date: string): Promise<number> {
  return won(page, `[data-testid=panel-forecast] tr[data-month="${date.slice(0, 8)}01"]`, 2);
}

async function parkDashboard(page: Page): Promise<string> {
  await open(page, '/dashboard');
  const option = page.locator('form.filters select[name=owner] option', { hasText: displayName(PARK) });
  const id = (await option.getAttribute('value')) ?? '';
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  const url = `/dashboard?owner=${id}&currency=KRW`;
  await open(page, url);
  return url;
}

test('a new deal shows in its stage and month, and moves with the board', async ({ page }) => {
  await signIn(page, PARK);
  const rows = await accountsOwnedBy(page, displayName(PARK));
  const href = (await rows.first().locator('td a').first().getAttribute('href')) ?? '';
  const accountId = href.split('/').pop() ?? '';

  const url = await parkDashboard(page);
  const close = isoDate(0);
  const before = {
    lead: await stageAmount(page, 'lead'),
    qualified: await stageAmount(page, 'qualified'),
    month: await monthExpected(page, close),
  };
  const amount = 12_340_000;
  const id = await createDeal(page, {
    accountId,
    name: `대시보드${koreanTag(6)} 운영 전환`,
    stage: 'lead',
    amount: String(amount),
    closeDate: close,
  });

  await open(page, url);
  await expect.poll(() => stageAmount(page, 'lead')).toBe(before.lead + amount);
  const leadWeight = (amount * stage('lead').probability) / 100;
  expect(await monthExpected(page, close)).toBe(before.month + leadWeight);
  await expect(page.getByTestId('chart-pipeline-KRW')).toBeVisible();

  // Moved on the board (keyboard), it moves on the dashboard.
  await open(page, `/pipeline?owner=${new URL(page.url(), 'http://x').searchParams.get('owner')}`);
  const card = page.locator(`[data-testid=deal-card][data-deal-id="${id}"]`);
  const moved = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/deals/move');
  await card.focus();
  await page.keyboard.press('ArrowRight');
  expect((await moved).ok()).toBe(true);

  await open(page, url);
  expect(await stageAmount(page, 'lead')).toBe(before.lead);
  expect(await stageAmount(page, 'qualified')).toBe(before.qualified + amount);
  const qualifiedWeight = (amount * stage('qualified').probability) / 100;
  expect(await monthExpected(page, close)).toBe(before.month + qualifiedWeight);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the dashboard shows every chart and its table', async ({ page }) => {
    await signIn(page, PARK);
    await open(page, '/dashboard');
    const charts = page.locator('svg[role=img]');
    expect(await charts.count()).toBeGreaterThanOrEqual(2);
    for (const chart of await charts.all()) {
      await expect(chart).toBeVisible();
      await expect(chart.locator('title').first()).not.toBeEmpty();
    }
    for (const panel of [
      'panel-pipeline',
      'panel-forecast',
      'panel-win-rate',
      'panel-leaderboard',
      'panel-stage-time',
      'panel-stale',
    ]) {
      await expect(page.getByTestId(panel)).toBeVisible();
    }
    await expect(page.getByTestId('panel-renewals')).toBeVisible();
  });
});
