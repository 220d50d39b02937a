/** Secrets the tests run with; the test stacks are started with exactly these. */
export const testSecrets = {
  FORM_SIGNING_SECRET: `whsec_${Buffer.from("leadflow-test-form-secret-0123456789").toString("base64")}`,
  META_APP_SECRET: "test-meta-app-secret",
  META_VERIFY_TOKEN: "test-meta-verify-token",
  META_PAGE_ACCESS_TOKEN: "test-meta-page-token",
  GOOGLE_ADS_WEBHOOK_KEY: "test-google-ads-key",
  ADMIN_API_KEY: "test-admin-key",
  EVENTS_API_KEY: "test-events-key",
} as const;
