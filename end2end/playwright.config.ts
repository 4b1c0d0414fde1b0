import { defineConfig } from '@playwright/test';

// The stack (Postgres, Keycloak, server) is started by scripts/test.sh, which
// exports SALESOPS_URL, SALESOPS_URL_2 and KEYCLOAK_URL. Browsers are never
// downloaded: Debian's Chromium is used.
export default defineConfig({
  testDir: './tests',
  workers: 1, // 2-core machines: one browser at a time
  retries: 0,
  timeout: 60_000,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  use: {
    baseURL: process.env.SALESOPS_URL ?? 'http://127.0.0.1:3000',
    locale: 'ko-KR',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox', // running as root
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-gpu',
        '--no-first-run',
      ],
    },
  },
});
