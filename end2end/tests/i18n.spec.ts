// Korean is the default; the language switch in the header changes the whole
// interface, and the choice sticks across pages and reloads.

import { expect, onApp, open, ready, signIn, test } from './helpers';

test('switching to English and back to Korean, kept across navigation', async ({ page, context }) => {
  await signIn(page, 'kim.minjun');

  // Korean by default (the browser asks for ko-KR).
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  await expect(page.locator('h1')).toHaveText('고객사');
  const nav = page.locator('header nav');
  await expect(nav.getByRole('link')).toContainText(['고객사', '담당자']);
  await expect(page.getByRole('link', { name: '새 고객사' })).toBeVisible();
  await expect(page.getByTestId('current-user')).toContainText('영업 담당');

  // Switch to English from a list with a filter: the page stays where it was.
  await open(page, '/accounts?q=%EA%B5%AC%EB%A6%84'); // 구름
  const toEnglish = page.locator('a.lang-switch');
  await expect(toEnglish).toHaveText('English');
  await toEnglish.click();
  await page.waitForURL((url) => onApp('/accounts')(url) && url.searchParams.get('q') === '구름');
  await ready(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.locator('h1')).toHaveText('Accounts');
  await expect(nav.getByRole('link')).toContainText(['Accounts', 'Contacts']);
  await expect(nav).not.toContainText(/[가-힣]/); // no Korean left in the navigation
  await expect(page.getByRole('link', { name: 'New account' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(page.getByTestId('current-user')).toContainText('Sales rep');
  await expect(page.locator('form.filters input[name=q]')).toHaveValue('구름');
  await expect(page.getByTestId('account-list').locator('thead')).toContainText('Business number');
  await expect(page.getByTestId('account-list')).toContainText('(주)구름클라우드');
  expect((await context.cookies()).find((c) => c.name === 'salesops_lang')?.value).toBe('en');

  // The choice persists: through the header navigation, a new page load and a form.
  await nav.getByRole('link', { name: 'Contacts' }).click();
  await page.waitForURL(onApp('/contacts'));
  await expect(page.locator('h1')).toHaveText('Contacts');
  await open(page, '/accounts/new');
  await expect(page.locator('h1')).toHaveText('New account');
  await expect(page.locator('label[for=f-business_number]')).toHaveText('Business number');
  await expect(page.locator('[data-testid=account-form] button[type=submit]')).toHaveText('Save');
  await expect(page.locator('#f-industry option[value=it]')).toHaveText('IT / Software');
  await page.reload();
  await ready(page);
  await expect(page.locator('h1')).toHaveText('New account');

  // A second tab of the same browser is in English too.
  const other = await context.newPage();
  await open(other, '/accounts');
  await expect(other.locator('h1')).toHaveText('Accounts');
  await other.close();

  // And back to Korean.
  const toKorean = page.locator('a.lang-switch');
  await expect(toKorean).toHaveText('한국어');
  await toKorean.click();
  await page.waitForURL(onApp('/accounts/new'));
  await ready(page);
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  await expect(page.locator('h1')).toHaveText('새 고객사');
  await expect(page.locator('label[for=f-business_number]')).toHaveText('사업자등록번호');
  await expect(page.locator('a.lang-switch')).toHaveText('English');
  await open(page, '/accounts');
  await expect(page.locator('h1')).toHaveText('고객사');
  await expect(page.getByRole('button', { name: '로그아웃' })).toBeVisible();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the language switch is a plain link that works without JavaScript', async ({ page }) => {
    await signIn(page, 'choi.yuna');
    await page.locator('a.lang-switch').click();
    await page.waitForURL(onApp('/accounts'));
    await expect(page.locator('h1')).toHaveText('Accounts');
    await expect(page.getByTestId('current-user')).toContainText('Viewer');
    await page.goto('/contacts');
    await expect(page.locator('h1')).toHaveText('Contacts');
    await page.locator('a.lang-switch').click();
    await page.waitForURL(onApp('/contacts'));
    await expect(page.locator('h1')).toHaveText('담당자');
  });
});
