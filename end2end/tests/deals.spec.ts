// Deals (영업기회) and the pipeline board: moving cards by mouse, keyboard and
// the no-JavaScript stage selector (columns' counts and totals follow), a move
// the stage rules refuse, notes on a deal's timeline, and a rep's visibility.

import type { Page, Response } from '@playwright/test';
import {
  accountsOwnedBy,
  createDeal,
  displayName,
  expect,
  isoDate,
  koreanTag,
  newContext,
  onApp,
  open,
  ready,
  signIn,
  stage,
  test,
  type StageId,
} from './helpers';

// ---------------------------------------------------------------- helpers

/** "120,000,000" */
function grouped(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}

/** A random KRW amount in whole 10,000s, between 10,000,000 and 99,990,000. */
function randomAmount(): number {
  return (1000 + Math.floor(Math.random() * 9000)) * 10_000;
}

/** The id of one of park.jihoon's accounts (a manager; the deals below hang off it). */
async function parkAccountId(page: Page): Promise<string> {
  const rows = await accountsOwnedBy(page, PARK.name);
  const href = (await rows.first().locator('td a').first().getAttribute('href')) ?? '';
  const id = href.split('/').pop() ?? '';
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  return id;
}

/** A user's id, as the board's owner filter offers it. */
async function ownerId(page: Page, displayName: string): Promise<string> {
  await open(page, '/pipeline');
  const option = page.locator('form.filters select[name=owner] option', { hasText: displayName });
  await expect(option).toHaveCount(1);
  const id = (await option.getAttribute('value')) ?? '';
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  return id;
}

/** Opens the board filtered on one owner (by URL, so the first render is already the filtered board). */
async function openBoard(page: Page, owner: { id: string; name: string }): Promise<void> {
  await open(page, `/pipeline?owner=${owner.id}`);
  await expect(page.getByTestId('board')).toBeVisible();
  await expect(page.locator('form.filters select[name=owner] option:checked')).toHaveText(owner.name);
}

function column(page: Page, stageId: StageId) {
  return page.getByTestId(`column-${stage(stageId).id}`); // an unknown id throws rather than matching nothing
}

function card(page: Page, id: string) {
  return page.locator(`[data-testid=deal-card][data-deal-id="${id}"]`);
}

/**
 * Drags a card with the mouse onto a column's header. The header, level with
 * the card's own column header, is in view already: were Playwright to scroll
 * to a column's centre between mouse down and the first move, Chromium would
 * start the drag from whatever card is under the pointer after the scroll.
 */
async function dragCard(page: Page, id: string, to: StageId): Promise<void> {
  await card(page, id).dragTo(column(page, to).locator('header'));
}

function cardIn(page: Page, stageId: StageId, id: string) {
  return column(page, stageId).locator(`[data-testid=deal-card][data-deal-id="${id}"]`);
}

interface ColumnNumbers {
  count: number;
  /** KRW sum; 0 when the column shows no KRW total. */
  krw: number;
  /** KRW weighted sum. */
  weighted: number;
}

const number = (s: string) => Number(s.replace(/,/g, ''));

/** What a column's header shows: its count, KRW total and KRW weighted total. */
async function columnNumbers(page: Page, stageId: StageId): Promise<ColumnNumbers> {
  const col = column(page, stageId);
  const countText = ((await col.getByTestId('column-count').textContent()) ?? '').trim();
  const c = /^([\d,]+)\s*건$/.exec(countText);
  if (!c) throw new Error(`column ${stageId}: count reads "${countText}"`);
  const total = col.getByTestId('column-total-KRW');
  if ((await total.count()) === 0) return { count: number(c[1]), krw: 0, weighted: 0 };
  const totalText = ((await total.textContent()) ?? '').trim();
  const t = /^([\d,]+)원\s*가중 금액\s*([\d,]+)원$/.exec(totalText);
  if (!t) throw new Error(`column ${stageId}: KRW total reads "${totalText}"`);
  return { count: number(c[1]), krw: number(t[1]), weighted: number(t[2]) };
}

/** Waits until the column's header shows these numbers. */
async function expectColumn(page: Page, stageId: StageId, expected: ColumnNumbers): Promise<void> {
  await expect
    .poll(() => columnNumbers(page, stageId), { message: `column ${stageId} header` })
    .toEqual(expected);
}

/** The numbers after one KRW deal of `amount` left (sign -1) or joined (sign +1) the column. */
function shifted(before: ColumnNumbers, stageId: StageId, amount: number, sign: 1 | -1, probability = stage(stageId).probability): ColumnNumbers {
  return {
    count: before.count + sign,
    krw: before.krw + sign * amount,
    weighted: before.weighted + (sign * amount * probability) / 100,
  };
}

/** Waits for the move's POST and, if it succeeded, the board reloaded from the server. */
function moveRoundTrip(page: Page) {
  const moved = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/deals/move');
  const reloaded = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/deals/board');
  return { moved, reloaded };
}

/** Checks that a move request was for this deal and stage. */
function expectMoveRequest(response: Response, id: string, stageId: StageId): void {
  const sent = new URLSearchParams(response.request().postData() ?? '');
  expect({ id: sent.get('id'), stage: sent.get('stage') }).toEqual({ id, stage: stage(stageId).id });
}

/** The stage history rows of a deal's page, newest first. */
function stageHistoryRows(page: Page) {
  return page.getByTestId('stage-history').locator('tbody tr');
}

/** Escapes a string for use inside a RegExp. */
function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const PARK = { name: displayName('park.jihoon') };

// ---------------------------------------------------------------- board moves, JavaScript on

test.describe('pipeline board, JavaScript on', () => {
  test('dragging a card with the mouse moves it, updates both columns\' totals, and is recorded', async ({ page }) => {
    await signIn(page, 'park.jihoon');
    const accountId = await parkAccountId(page);
    const amount = randomAmount();
    const name = `끌기${koreanTag(6)} 클라우드 전환`;
    const id = await createDeal(page, { accountId, name, stage: 'qualified', amount: String(amount), closeDate: isoDate(0) });
    await expect(page.getByTestId('deal-stage')).toHaveText(stage('qualified').name);
    await expect(stageHistoryRows(page)).toHaveCount(1);

    const owner = { ...PARK, id: await ownerId(page, PARK.name) };
    await openBoard(page, owner);
    await expect(cardIn(page, 'qualified', id)).toBeVisible();
    await expect(card(page, id)).toHaveAttribute('aria-label', name);
    await expect(card(page, id).locator('.card-amount')).toHaveText(`${grouped(amount)}원`);
    await expect(card(page, id).locator('.card-meta')).toContainText(`${stage('qualified').probability}%`);
    const before = { qualified: await columnNumbers(page, 'qualified'), proposal: await columnNumbers(page, 'proposal') };
    expect(before.qualified.krw).toBeGreaterThanOrEqual(amount);

    // Drag it from qualified to proposal and wait for the server's answer and the reloaded board.
    const { moved, reloaded } = moveRoundTrip(page);
    await dragCard(page, id, 'proposal');
    const move = await moved;
    expectMoveRequest(move, id, 'proposal');
    expect(move.ok()).toBe(true);
    expect((await reloaded).ok()).toBe(true);

    await expect(cardIn(page, 'proposal', id)).toBeVisible();
    await expect(cardIn(page, 'qualified', id)).toHaveCount(0);
    await expect(card(page, id).locator('.card-meta')).toContainText(`${stage('proposal').probability}%`); // the new stage's probability
    await expect(page.getByTestId('board-error')).toHaveCount(0);
    const after = {
      qualified: shifted(before.qualified, 'qualified', amount, -1),
      proposal: shifted(before.proposal, 'proposal', amount, 1),
    };
    await expectColumn(page, 'qualified', after.qualified);
    await expectColumn(page, 'proposal', after.proposal);
    await expect(column(page, 'proposal').getByTestId('column-total-KRW')).toContainText(`${grouped(after.proposal.krw)}원`);

    // Persisted: a reload shows the same board.
    await page.reload();
    await ready(page);
    await expect(cardIn(page, 'proposal', id)).toBeVisible();
    await expect(cardIn(page, 'qualified', id)).toHaveCount(0);
    await expectColumn(page, 'qualified', after.qualified);
    await expectColumn(page, 'proposal', after.proposal);

    // The deal's page shows the new stage and a stage history row for the move.
    await card(page, id).getByRole('link', { name }).click();
    await page.waitForURL(onApp(`/deals/${id}`));
    await expect(page.getByTestId('deal-name')).toHaveText(name);
    await expect(page.getByTestId('deal-stage')).toHaveText(stage('proposal').name);
    const rows = stageHistoryRows(page);
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0).locator('td').nth(0)).toHaveText(stage('proposal').name);
    await expect(rows.nth(0).locator('td').nth(1)).toHaveText(stage('qualified').name);
    await expect(rows.nth(0).locator('td').nth(3)).toHaveText(PARK.name);
    await expect(rows.nth(1).locator('td').nth(0)).toHaveText(stage('qualified').name);
    await expect(rows.nth(1).locator('td').nth(1)).toHaveText('');
  });

  test('a focused card moves to the next stage with the ArrowRight key', async ({ page }) => {
    await signIn(page, 'park.jihoon');
    const accountId = await parkAccountId(page);
    const amount = randomAmount();
    const name = `건반${koreanTag(6)} 보안 점검`;
    const id = await createDeal(page, { accountId, name, stage: 'lead', amount: String(amount), closeDate: isoDate(0) });

    const owner = { ...PARK, id: await ownerId(page, PARK.name) };
    await openBoard(page, owner);
    await expect(cardIn(page, 'lead', id)).toBeVisible();
    const before = { lead: await columnNumbers(page, 'lead'), qualified: await columnNumbers(page, 'qualified') };

    const { moved, reloaded } = moveRoundTrip(page);
    await card(page, id).focus();
    await expect(card(page, id)).toBeFocused();
    await page.keyboard.press('ArrowRight');
    const move = await moved;
    expectMoveRequest(move, id, 'qualified');
    expect(move.ok()).toBe(true);
    expect((await reloaded).ok()).toBe(true);

    await expect(cardIn(page, 'qualified', id)).toBeVisible();
    await expect(cardIn(page, 'lead', id)).toHaveCount(0);
    const after = { lead: shifted(before.lead, 'lead', amount, -1), qualified: shifted(before.qualified, 'qualified', amount, 1) };
    await expectColumn(page, 'lead', after.lead);
    await expectColumn(page, 'qualified', after.qualified);

    await page.reload();
    await ready(page);
    await expect(cardIn(page, 'qualified', id)).toBeVisible();
    await expect(cardIn(page, 'lead', id)).toHaveCount(0);
    await expectColumn(page, 'qualified', after.qualified);

    await open(page, `/deals/${id}`);
    await expect(page.getByTestId('deal-stage')).toHaveText(stage('qualified').name);
    await expect(stageHistoryRows(page)).toHaveCount(2);
  });

  test('a deal without an amount dropped on 수주 goes back, with the reason shown', async ({ page }) => {
    await signIn(page, 'park.jihoon');
    const accountId = await parkAccountId(page);
    const name = `금액없음${koreanTag(6)} 협업 도구`;
    const id = await createDeal(page, { accountId, name, stage: 'negotiation', amount: '', closeDate: isoDate(0) });
    await expect(page.locator('dl.record')).toContainText(stage('negotiation').name);

    const owner = { ...PARK, id: await ownerId(page, PARK.name) };
    await openBoard(page, owner);
    await expect(cardIn(page, 'negotiation', id)).toBeVisible();
    await expect(card(page, id).locator('.card-amount')).toHaveText('');
    const before = { negotiation: await columnNumbers(page, 'negotiation'), won: await columnNumbers(page, 'won') };

    const moved = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/deals/move');
    await dragCard(page, id, 'won');
    const move = await moved;
    expectMoveRequest(move, id, 'won');
    expect(move.ok()).toBe(false);

    await expect(page.getByTestId('board-error')).toHaveText('수주로 옮기려면 금액과 마감일이 있어야 합니다.');
    await expect(page.getByTestId('board-error').getByRole('alert')).toBeVisible();
    await expect(cardIn(page, 'negotiation', id)).toBeVisible();
    await expect(cardIn(page, 'won', id)).toHaveCount(0);
    await expectColumn(page, 'negotiation', before.negotiation);
    await expectColumn(page, 'won', before.won);

    // Nothing changed on the server.
    await page.reload();
    await ready(page);
    await expect(cardIn(page, 'negotiation', id)).toBeVisible();
    await expect(cardIn(page, 'won', id)).toHaveCount(0);
    await expect(page.getByTestId('board-error')).toHaveCount(0);
    await expectColumn(page, 'won', before.won);

    await open(page, `/deals/${id}`);
    await expect(page.getByTestId('deal-stage')).toHaveText(stage('negotiation').name);
    await expect(stageHistoryRows(page)).toHaveCount(1);
    await expect(stageHistoryRows(page).first().locator('td').first()).toHaveText(stage('negotiation').name);
  });
});

// ---------------------------------------------------------------- board moves, JavaScript off

test.describe('pipeline board, JavaScript off', () => {
  test.use({ javaScriptEnabled: false });

  test('the stage selector and "이동" move a card; the reloaded board shows the new totals', async ({ page }) => {
    await signIn(page, 'park.jihoon');
    const accountId = await parkAccountId(page);
    const amount = randomAmount();
    const name = `선택${koreanTag(6)} 데이터 이전`;
    const id = await createDeal(page, { accountId, name, stage: 'proposal', amount: String(amount), closeDate: isoDate(0) });

    // The filter form (a plain GET) narrows the board to one owner.
    await open(page, '/pipeline');
    const filters = page.locator('form.filters');
    await filters.locator('select[name=owner]').selectOption({ label: PARK.name });
    await filters.getByRole('button', { name: '필터' }).click();
    await page.waitForURL((url) => onApp('/pipeline')(url) && !!url.searchParams.get('owner'));
    const boardUrl = page.url();
    await expect(filters.locator('select[name=owner] option:checked')).toHaveText(PARK.name);
    await expect(cardIn(page, 'proposal', id)).toBeVisible();
    const before = { proposal: await columnNumbers(page, 'proposal'), negotiation: await columnNumbers(page, 'negotiation') };

    const form = card(page, id).locator('form.move-form');
    await expect(form.locator('select[name=stage] option:checked')).toHaveText(stage('proposal').name);
    await form.locator('select[name=stage]').selectOption({ label: stage('negotiation').name });
    const back = page.waitForResponse((r) => r.url() === boardUrl && r.request().method() === 'GET');
    await form.getByRole('button', { name: '이동' }).click();
    expect((await back).ok()).toBe(true);
    await page.waitForLoadState();
    expect(page.url()).toBe(boardUrl); // back on the same filtered board

    await expect(cardIn(page, 'negotiation', id)).toBeVisible();
    await expect(cardIn(page, 'proposal', id)).toHaveCount(0);
    await expect(card(page, id).locator('form.move-form select[name=stage] option:checked')).toHaveText(stage('negotiation').name);
    await expect(card(page, id).locator('.card-meta')).toContainText(`${stage('negotiation').probability}%`);
    await expectColumn(page, 'proposal', shifted(before.proposal, 'proposal', amount, -1));
    await expectColumn(page, 'negotiation', shifted(before.negotiation, 'negotiation', amount, 1));

    await open(page, `/deals/${id}`);
    await expect(page.getByTestId('deal-stage')).toHaveText(stage('negotiation').name);
    await expect(stageHistoryRows(page)).toHaveCount(2);
    await expect(stageHistoryRows(page).first().locator('td').nth(1)).toHaveText(stage('proposal').name);
  });
});

// ---------------------------------------------------------------- timeline

for (const javaScriptEnabled of [true, false]) {
  test.describe(`deal timeline, JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled });

    test('a note added on the deal\'s page shows on its timeline', async ({ page }) => {
      await signIn(page, 'park.jihoon');
      const accountId = await parkAccountId(page);

      // From the account's page: "새 영업기회".
      await open(page, `/accounts/${accountId}`);
      await page.getByRole('link', { name: '새 영업기회' }).click();
      await page.waitForURL((url) => onApp('/deals/new')(url) && url.searchParams.get('account') === accountId);
      const name = `메모${koreanTag(6)} 유지보수 갱신`;
      const id = await createDeal(page, { accountId, name, stage: 'lead', amount: '5000000', closeDate: isoDate(3) });
      await expect(page.locator('p.notice')).toHaveText('만들었습니다.');
      await expect(page.getByTestId('timeline')).toHaveCount(0);
      await expect(page.locator('#timeline p.empty')).toBeVisible();

      const subject = `고객 미팅 후속 ${koreanTag(5)}`;
      const body = '다음 주까지 견적서 수정본을 보내기로 함';
      const form = page.getByTestId('activity-form');
      await form.locator('#activity-kind').selectOption('note');
      await form.locator('#activity-subject').fill(subject);
      await form.locator('#activity-body').fill(body);
      await form.getByRole('button', { name: '활동 추가' }).click();

      await page.waitForURL((url) => onApp(`/deals/${id}`)(url) && url.searchParams.get('notice') === 'activity');
      await expect(page.locator('p.notice')).toHaveText('활동을 추가했습니다.');
      const entry = page.getByTestId('timeline').locator('li', { has: page.locator('strong.subject', { hasText: subject }) });
      await expect(entry).toHaveCount(1);
      await expect(entry.locator('.kind')).toHaveText('메모');
      await expect(entry.locator('p.body')).toHaveText(body);
      await expect(entry.locator('.meta')).toContainText(PARK.name);

      // Still there on a fresh load.
      await open(page, `/deals/${id}`);
      await expect(page.getByTestId('timeline').locator('strong.subject', { hasText: subject })).toBeVisible();
    });
  });
}

// ---------------------------------------------------------------- visibility

test('a rep sees only his own deals; another rep\'s deal is not found', async ({ page, browser }) => {
  // A manager looks up Lee Seoyeon's id and one of her deals.
  const manager = await newContext(browser);
  const mpage = await manager.newPage();
  await signIn(mpage, 'park.jihoon');
  const lee = displayName('lee.seoyeon');
  const kim = displayName('kim.minjun');
  const leeId = await ownerId(mpage, lee);
  await open(mpage, `/deals?owner=${leeId}`);
  const leeRows = mpage.getByTestId('deal-list').locator('tbody tr');
  await expect(leeRows.first()).toBeVisible();
  await expect(leeRows.locator('td:nth-child(7)').first()).toHaveText(lee);
  const link = leeRows.first().locator('td a').first();
  const leeDeal = { name: ((await link.textContent()) ?? '').trim(), id: ((await link.getAttribute('href')) ?? '').split('/').pop() ?? '' };
  expect(leeDeal.id).toMatch(/^[0-9a-f-]{36}$/);
  await manager.close();

  await signIn(page, 'kim.minjun');

  // The board: only his cards, even when the URL asks for someone else's.
  for (const path of ['/pipeline', `/pipeline?owner=${leeId}`]) {
    await open(page, path);
    const cards = page.getByTestId('board').getByTestId('deal-card');
    await expect(cards.first()).toBeVisible();
    const metas = await cards.locator('.card-meta').allTextContents();
    expect(metas.length).toBeGreaterThan(0);
    for (const meta of metas) expect(meta.trim()).toMatch(new RegExp(` · ${reEscape(kim)}$`));
    await expect(card(page, leeDeal.id)).toHaveCount(0);
  }

  // The list: only his deals; searching for hers finds nothing.
  await open(page, '/deals');
  const owners = await page.getByTestId('deal-list').locator('tbody tr td:nth-child(7)').allTextContents();
  expect(owners.length).toBeGreaterThan(0);
  expect(new Set(owners.map((o) => o.trim()))).toEqual(new Set([kim]));
  await open(page, `/deals?q=${encodeURIComponent(leeDeal.name)}`);
  await expect(page.locator('p.empty')).toHaveText('결과가 없습니다.');

  // Her deal by URL: not found (404), and nothing of it shown.
  const response = await open(page, `/deals/${leeDeal.id}`);
  expect(response?.status()).toBe(404);
  await expect(page.locator('p.error-box')).toHaveText('찾을 수 없습니다. 삭제되었거나 볼 권한이 없습니다.');
  await expect(page.getByTestId('deal-name')).toHaveCount(0);
  await expect(page.locator('main')).not.toContainText(leeDeal.name);
});
