// The Storage client for a gs:// prefix (spec §1.6, §6.3): application default credentials (the
// GOOGLE_APPLICATION_CREDENTIALS file when set), always a project id so the SDK never asks a metadata
// server for one, STORAGE_EMULATOR_HOST as apiEndpoint, and the shared retry policy in the SDK's hook.
import { readFileSync } from 'node:fs';
import type { Storage } from '@google-cloud/storage';
import type { GsSettings } from '../../config/credentials';
import { UserError } from '../../util/errors';
import { logRetry, retryLabel, type RetryPolicy } from '../http/retry-policy';
import { classifyGcs } from './gs-errors';

/** Used only when neither GOOGLE_CLOUD_PROJECT nor the credentials name a project: object calls never need one. */
const PLACEHOLDER_PROJECT = 'wal-e-unspecified-project';

/** "host:port", "http://host:port" or ".../storage/v1" -> "http://host:port" (the SDK adds /storage/v1). */
export function emulatorEndpoint(host: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UserError('invalid STORAGE_EMULATOR_HOST', { detail: `"${host}" is not a host:port or URL.` });
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '').replace(/\/storage\/v1$/, '')}`;
}

export function projectFor(settings: GsSettings): string {
  if (settings.project) return settings.project;
  if (settings.credentialsFile) {
    let text: string;
    try {
      text = readFileSync(settings.credentialsFile, 'utf8');
    } catch (err) {
      throw new UserError('could not read GOOGLE_APPLICATION_CREDENTIALS', {
        detail: `"${settings.credentialsFile}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      });
    }
    try {
      const j = JSON.parse(text) as { project_id?: unknown; quota_project_id?: unknown };
      const id = typeof j.project_id === 'string' ? j.project_id : typeof j.quota_project_id === 'string' ? j.quota_project_id : undefined;
      if (id) return id;
    } catch {
      throw new UserError('GOOGLE_APPLICATION_CREDENTIALS is not a JSON credentials file', {
        detail: `"${settings.credentialsFile}" could not be parsed as JSON.`,
      });
    }
  }
  return PLACEHOLDER_PROJECT;
}

export async function storageFor(settings: GsSettings, policy: RetryPolicy): Promise<Storage> {
  const gcs = await import('@google-cloud/storage');
  const projectId = projectFor(settings);
  let retries = 0;
  const options = {
    projectId,
    ...(settings.credentialsFile ? { keyFilename: settings.credentialsFile } : {}),
    ...(settings.emulatorHost ? { apiEndpoint: emulatorEndpoint(settings.emulatorHost) } : {}),
    timeout: policy.requestTimeoutMs,
    retryOptions: {
      autoRetry: policy.maxAttempts > 1,
      maxRetries: policy.maxAttempts - 1,
      retryDelayMultiplier: 2,
      maxRetryDelay: policy.maxDelayMs / 1000,
      totalTimeout: policy.deadlineMs / 1000,
      // Uploads are retried too: a put replaces whole, a put-if-absent carries ifGenerationMatch=0.
      idempotencyStrategy: gcs.IdempotencyStrategy.RetryAlways,
      retryableErrorFn: (err: unknown): boolean => {
        const c = classifyGcs(err);
        if (c.retryable) {
          retries++;
          // The SDK waits 2^n s plus up to 1 s of jitter (n counts its retries of this request).
          logRetry(retryLabel('Google Cloud Storage request'), c.reason, retries, policy.maxAttempts, Math.min(policy.maxDelayMs, 1000 * 2 ** (retries - 1)));
        }
        return c.retryable;
      },
    },
  };
  // The SDK reads STORAGE_EMULATOR_HOST itself and then drops the /storage/v1 path from every JSON call
  // (while uploads keep /upload/storage/v1), which real emulators only partly accept. The endpoint is
  // passed explicitly instead, so the variable is hidden from the constructor.
  const hidden = process.env.STORAGE_EMULATOR_HOST;
  delete process.env.STORAGE_EMULATOR_HOST;
  try {
    return new gcs.Storage(options);
  } finally {
    if (hidden !== undefined) process.env.STORAGE_EMULATOR_HOST = hidden;
  }
}
