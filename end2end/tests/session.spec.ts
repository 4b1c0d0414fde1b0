// Sessions: signing out ends the Keycloak session too; sessions live in
// Postgres, so a second instance serves the same session and a restarted
// instance still knows it.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';

import type { APIRequestContext } from '@playwright/test';

import { BASE_URL, BASE_URL_2, KEYCLOAK_URL, REALM_NAME, displayName, expect, onApp, signIn, test } from './helpers';

// Keycloak ends a user's sessions (an administrator, or a sign-out in another
// application): its back-channel call must end the SalesOps session as well.
test('a session ended in Keycloak ends the SalesOps session (back-channel logout)', async ({ page, request }) => {
  const viewer = 'choi.yuna';
  await signIn(page, viewer);
  await expect(page.getByTestId('current-user')).toContainText(displayName(viewer));

  // The admin console's "sign out all sessions" for this user, through Keycloak's admin API.
  const token = await request.post(`${KEYCLOAK_URL}/realms/master/protocol/openid-connect/token`, {
    form: { grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: 'admin' },
  });
  expect(token.ok()).toBe(true);
  const auth = { Authorization: `Bearer ${(await token.json()).access_token}` };
  const admin = `${KEYCLOAK_URL}/admin/realms/${REALM_NAME}`;
  const users = await request.get(`${admin}/users?username=${encodeURIComponent(viewer)}&exact=true`, {
    headers: auth,
  });
  const [user] = await users.json();
  const logout = await request.post(`${admin}/users/${user.id}/logout`, { headers: auth });
  expect(logout.status()).toBe(204);

  // The next page load is no longer signed in: back to Keycloak, which asks for the password.
  await page.goto('/accounts');
  await expect(page.locator('#password')).toBeVisible();
  expect(page.url().startsWith(KEYCLOAK_URL)).toBe(true);
});

test('signing out ends the Keycloak session too: the password is asked again', async ({ page, request }) => {
  await signIn(page, 'lee.seoyeon');
  const session = (await page.context().cookies(BASE_URL)).find((c) => c.name === 'salesops_session');
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe('Lax');

  await page.getByRole('button', { name: '로그아웃' }).click();
  await page.waitForURL(onApp('/auth/signed-out'), { timeout: 15_000 }); // via Keycloak's end-session
  await expect(page.getByText('로그아웃했습니다.')).toBeVisible();
  expect((await page.context().cookies(BASE_URL)).find((c) => c.name === 'salesops_session')).toBeUndefined();

  // No automatic sign-in through Keycloak's SSO cookie: the login form is shown.
  await page.goto('/accounts');
  await expect(page.locator('#password')).toBeVisible();
  expect(page.url().startsWith(KEYCLOAK_URL)).toBe(true);
  await expect(page.locator('#password')).toHaveValue('');

  // The sign-in link on the signed-out page leads there as well.
  await page.goto('/auth/signed-out');
  await page.getByRole('link', { name: '로그인' }).click();
  await expect(page.locator('#password')).toBeVisible();

  // The old session token is dead on the server, not just forgotten by the browser.
  const old = { Cookie: `salesops_session=${session?.value}` };
  const pageWithOld = await request.get('/accounts', { headers: old, maxRedirects: 0 });
  expect(pageWithOld.status()).toBe(303);
  expect(pageWithOld.headers()['location']).toContain('/auth/login');
  const apiWithOld = await request.post('/api/me', {
    headers: { ...old, Origin: new URL(BASE_URL).origin, Accept: 'application/json' },
  });
  expect(apiWithOld.status()).toBe(200);
  expect(await apiWithOld.json()).toBeNull();
});

test.describe('a second instance', () => {
  const repoRoot = path.resolve(__dirname, '..', '..');
  const logDir = path.join(repoRoot, '.data', 'logs');
  let child: ChildProcess | undefined;

  async function waitReady(deadlineMs: number) {
    const deadline = Date.now() + deadlineMs;
    let last = '';
    while (Date.now() < deadline) {
      if (child?.exitCode !== null && child?.exitCode !== undefined) {
        throw new Error(`second instance exited with ${child.exitCode} (see .data/logs/server-e2e-2.log)`);
      }
      try {
        const res = await fetch(`${BASE_URL_2}/readyz`);
        if (res.ok) return;
        last = `status ${res.status}`;
      } catch (e) {
        last = String(e);
      }
      await new Promise((resolve) => setTimeout(resolve, 200)); // polling interval of a readiness probe
    }
    throw new Error(`${BASE_URL_2}/readyz not ready: ${last}`);
  }

  async function start() {
    mkdirSync(logDir, { recursive: true });
    const log = openSync(path.join(logDir, 'server-e2e-2.log'), 'a');
    const site = new URL(BASE_URL_2);
    child = spawn(path.join(repoRoot, 'target', 'debug', 'server'), [], {
      cwd: repoRoot,
      env: {
        ...process.env,
        LEPTOS_SITE_ADDR: site.host,
        LEPTOS_SITE_ROOT: 'target/site',
        LEPTOS_SITE_PKG_DIR: 'pkg',
        LEPTOS_OUTPUT_NAME: 'salesops',
        SALESOPS_PUBLIC_URL: BASE_URL_2,
        SALESOPS_SEED_DEMO: 'false',
        DATABASE_URL: process.env.DATABASE_URL,
      },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    await waitReady(60_000);
  }

  async function stop() {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  test.beforeAll(async () => {
    if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL (the e2e database) is not set');
    await start();
  });

  test.afterAll(async () => {
    await stop();
  });

  test('shares the session, which also survives a restart', async ({ page }) => {
    test.setTimeout(120_000);
    const park = displayName('park.jihoon');
    await signIn(page, 'park.jihoon');

    // Same host, other port: the browser sends the same cookie, the other instance knows it.
    await page.goto(`${BASE_URL_2}/accounts`);
    expect(onApp('/accounts', BASE_URL_2)(new URL(page.url()))).toBe(true);
    await expect(page.getByTestId('current-user')).toContainText(park);
    await expect(page.getByTestId('account-list')).toContainText('(주)구름클라우드');

    // Restart the second instance: the session lives in Postgres.
    await stop();
    await start();
    await page.reload();
    expect(onApp('/accounts', BASE_URL_2)(new URL(page.url()))).toBe(true);
    await expect(page.getByTestId('current-user')).toContainText(park);
    await expect(page.getByTestId('account-list')).toBeVisible();

    // And the first instance still serves it too.
    await page.goto(`${BASE_URL}/contacts`);
    await expect(page.getByTestId('current-user')).toContainText(park);
  });
});

// Roles and account status follow Keycloak: the test server re-validates
// sessions every 3 s (SALESOPS_SESSION_REVALIDATE_SECS in scripts/test.sh).
test.describe('changes made in Keycloak', () => {
  const who = 'choi.yuna';

  async function keycloakAdmin(request: APIRequestContext) {
    const token = await request.post(`${KEYCLOAK_URL}/realms/master/protocol/openid-connect/token`, {
      form: { grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: 'admin' },
    });
    expect(token.ok()).toBe(true);
    const headers = { Authorization: `Bearer ${(await token.json()).access_token}` };
    const admin = `${KEYCLOAK_URL}/admin/realms/${REALM_NAME}`;
    const [user] = await (
      await request.get(`${admin}/users?username=${encodeURIComponent(who)}&exact=true`, { headers })
    ).json();
    const role = await (await request.get(`${admin}/roles/sales-viewer`, { headers })).json();
    const mappings = `${admin}/users/${user.id}/role-mappings/realm`;
    return {
      removeRole: () => request.delete(mappings, { headers, data: [role] }),
      addRole: () => request.post(mappings, { headers, data: [role] }),
      setEnabled: (enabled: boolean) => request.put(`${admin}/users/${user.id}`, { headers, data: { enabled } }),
    };
  }

  test('a role removed in Keycloak leads to the no-access page within the interval', async ({ page, request }) => {
    const kc = await keycloakAdmin(request);
    await signIn(page, who);
    try {
      expect((await kc.removeRole()).status()).toBe(204);
      await expect
        .poll(
          async () => {
            await page.goto('/accounts');
            return page.getByTestId('no-access').count();
          },
          { timeout: 20_000, intervals: [1_000] },
        )
        .toBe(1);
    } finally {
      expect((await kc.addRole()).status()).toBe(204);
    }
    // Given back, it works again at the next re-validation.
    await expect
      .poll(
        async () => {
          await page.goto('/accounts');
          return page.getByTestId('current-user').count();
        },
        { timeout: 20_000, intervals: [1_000] },
      )
      .toBe(1);
  });

  test('a user disabled in Keycloak is signed out within the interval', async ({ page, request }) => {
    const kc = await keycloakAdmin(request);
    await signIn(page, who);
    try {
      expect((await kc.setEnabled(false)).status()).toBe(204);
      await expect
        .poll(
          async () => {
            await page.goto('/accounts');
            return page.url().startsWith(KEYCLOAK_URL);
          },
          { timeout: 20_000, intervals: [1_000] },
        )
        .toBe(true);
    } finally {
      expect((await kc.setEnabled(true)).status()).toBe(204);
    }
  });
});
