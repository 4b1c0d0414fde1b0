// Spreadsheet import as an admin does it: upload a CSV, fix a column's
// mapping, see the problem rows in the preview, choose to skip them, commit,
// follow the job to its result, find the records, undo.

import {
  dashed,
  expect,
  koreanTag,
  open,
  ready,
  signIn,
  test,
  validBusinessNumber,
} from './helpers';

test('an admin uploads, maps, previews problems, imports and undoes', async ({ page }) => {
  const tag = koreanTag(6);
  const account = `가져오기고객${tag}`;
  const other = `가져오기둘${tag}`;
  const number = validBusinessNumber();
  const csv =
    [
      '고객사명,사업자등록번호,영업기회명,단계,금액,영업 비고',
      `${account},${dashed(number)},클라우드 이전 ${tag},제안,"₩12,000,000",연간 계약 검토 ${tag}`,
      `${other},,백업 ${tag},없는단계,1억,`,
      '합계,,,,"₩112,000,000",',
    ].join('\r\n') + '\r\n';

  await signIn(page, 'jung.admin');
  await open(page, '/import');
  await page.getByTestId('import-file').setInputFiles({
    name: `영업현황-${tag}.csv`,
    mimeType: 'text/csv',
    buffer: Buffer.from(csv, 'utf-8'),
  });
  await page.getByRole('button', { name: '올리기' }).click();
  await page.waitForURL(/\/import\/[0-9a-f-]{36}$/);
  const importUrl = page.url();
  await ready(page);

  // The header row is found and mapped from its Korean names; the memo
  // column has no field of its own until the admin gives it one.
  const settings = page.getByTestId('import-settings');
  await expect(settings.getByTestId('import-map-A')).toHaveValue('account_name');
  await expect(settings.getByTestId('import-map-D')).toHaveValue('stage');
  await expect(settings.getByTestId('import-map-F')).toHaveValue('');
  await settings.getByTestId('import-map-F').selectOption('notes');

  // Every problem, by row and column, before anything is written.
  const problems = page.getByTestId('import-problems');
  await expect(problems.locator('tr', { hasText: '알 수 없는 단계입니다' })).toContainText('D (단계)');
  await expect(problems.locator('tr', { hasText: '합계·소계 행은 데이터가 아니라서' })).toContainText('A');
  await expect(page.getByTestId('import-commit')).toBeDisabled();

  // Skip the problem rows, apply, import.
  await settings.getByTestId('import-mode').selectOption('skip-invalid');
  await settings.getByTestId('import-apply').click();
  await ready(page);
  await expect(page.getByTestId('import-settings').getByTestId('import-map-F')).toHaveValue('notes');
  await expect(page.getByTestId('import-summary')).toContainText('데이터 행 3');
  await page.getByTestId('import-commit').click();

  // The page follows the job (it refreshes itself) until the result.
  await page.waitForURL(importUrl);
  await expect(page.getByTestId('import-status')).toContainText('완료', { timeout: 30_000 });
  const counts = page.getByTestId('import-counts');
  await expect(counts).toContainText('생성 1');
  await expect(counts.locator('tr', { hasText: '건너뛴 행' })).toContainText('2');

  // The record is there, with the remapped column's value.
  await open(page, `/accounts?q=${encodeURIComponent(account)}`);
  await page.getByRole('link', { name: account }).click();
  await ready(page);
  await expect(page.getByText(`연간 계약 검토 ${tag}`)).toBeVisible();
  await expect(page.getByText(`클라우드 이전 ${tag}`)).toBeVisible();

  // Undo removes what the import created.
  await open(page, importUrl);
  await page.getByTestId('import-undo').click();
  await expect(page.getByTestId('import-status')).toContainText('취소됨');
  await open(page, `/accounts?q=${encodeURIComponent(account)}`);
  await expect(page.getByRole('link', { name: account })).toHaveCount(0);

  // The history lists it with its result.
  await open(page, '/import');
  await expect(page.getByTestId('import-history').locator('tr', { hasText: `영업현황-${tag}.csv` })).toContainText(
    '취소됨',
  );
});

test('a file that is not a spreadsheet is refused with a clear message', async ({ page }) => {
  await signIn(page, 'jung.admin');
  await open(page, '/import');
  await page.getByTestId('import-file').setInputFiles({
    name: 'photo.xlsx',
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
  });
  await page.getByRole('button', { name: '올리기' }).click();
  await page.waitForURL(/\/import\?refused=NotSpreadsheet$/);
  await expect(page.getByRole('alert')).toContainText('스프레드시트 파일이 아닙니다');
});
