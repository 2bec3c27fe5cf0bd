// The one place that reads the environment (envdir hands its values in here too). Everything else
// gets what it needs through Config.
export type Env = Readonly<Record<string, string | undefined>>;

export function processEnv(): Env {
  return { ...process.env };
}

/** AWS_INSTANCE_PROFILE's boolean grammar (spec §1.4); undefined for anything else. */
export function parseEnvBoolean(v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return false;
  const l = v.toLowerCase();
  if (l === '0' || l === 'false') return false;
  if (l === '1' || l === 'true') return true;
  return undefined;
}
