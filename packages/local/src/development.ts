import { existsSync } from "node:fs";
import type { SecretName } from "@leadflow/manifest";

/** Reads `.env` from the working directory, when there is one, under what the shell already sets. */
export function loadDotEnv(file = ".env"): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

/**
 * Secrets used by `npm start` when the environment (or `.env`) does not set them. They are
 * public: fine on one machine, never for a deployment (see docs/configuration.md).
 */
export const developmentSecrets: Readonly<Record<SecretName, string>> = {
  FORM_SIGNING_SECRET: "whsec_bGVhZGZsb3ctbG9jYWwtZm9ybS1zaWduaW5nLXNlY3JldA==",
  META_APP_SECRET: "local-meta-app-secret",
  META_VERIFY_TOKEN: "local-meta-verify-token",
  META_PAGE_ACCESS_TOKEN: "local-meta-page-access-token",
  GOOGLE_ADS_WEBHOOK_KEY: "local-google-ads-webhook-key",
  ADMIN_API_KEY: "local-admin-key",
};

export const localRegion = "us-east-1";
export const localAccountId = "000000000000";
export const localTableName = "leadflow";
export const queueNamePrefix = "leadflow-";
