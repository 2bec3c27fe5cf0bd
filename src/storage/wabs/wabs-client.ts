// The container client for a wabs:// prefix (spec §1.6, §6.2): account endpoint (or WALE_WABS_ENDPOINT
// for Azurite and sovereign clouds), shared key when WABS_ACCESS_KEY is set, else the SAS token.
import type { ContainerClient } from '@azure/storage-blob';
import type { WabsSettings } from '../../config/credentials';
import type { RetryPolicy } from '../http/retry-policy';
import { UserError } from '../../util/errors';

/** https://<account>.blob.core.windows.net, or the configured endpoint without its trailing "/". */
export function blobEndpoint(settings: WabsSettings): string {
  const raw = settings.endpoint ?? `https://${settings.accountName}.blob.core.windows.net`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UserError('invalid WALE_WABS_ENDPOINT', {
      detail: `"${raw}" is not a URL.`,
      hint: 'Write it as http(s)://host[:port][/account], e.g. http://127.0.0.1:10000/devstoreaccount1 for Azurite.',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UserError('invalid WALE_WABS_ENDPOINT', { detail: `"${raw}" is not an http or https URL.` });
  }
  return raw.replace(/\/+$/, '');
}

/** A SAS token as the service wants it in a query string: WABS_SAS_TOKEN may come with or without "?". */
export function sasQuery(token: string): string {
  return token.trim().replace(/^\?/, '');
}

export async function containerClientFor(settings: WabsSettings, container: string, policy: RetryPolicy): Promise<ContainerClient> {
  const azure = await import('@azure/storage-blob');
  const url = `${blobEndpoint(settings)}/${encodeURIComponent(container)}`;
  // Retries are ours (withRetries: classification and one log line per retry, spec §6.6), so the SDK
  // tries once, with the policy's per-request timeout.
  const options = { retryOptions: { maxTries: 1, tryTimeoutInMs: policy.requestTimeoutMs }, userAgentOptions: { userAgentPrefix: 'wal-e' } };
  if (settings.accessKey) {
    const cred = new azure.StorageSharedKeyCredential(settings.accountName, settings.accessKey.reveal());
    return new azure.ContainerClient(url, cred, options);
  }
  const sas = settings.sasToken ? sasQuery(settings.sasToken.reveal()) : '';
  return new azure.ContainerClient(sas ? `${url}?${sas}` : url, new azure.AnonymousCredential(), options);
}
