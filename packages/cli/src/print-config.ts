/** The settings whose values must never be printed; S3 credentials sit under `s3`. */
const secretKeys = new Set(["apiKey", "webhookSecret", "playbackSecret", "secretAccessKey"]);
const mask = "****";

/**
 * The effective configuration with every secret masked, for `serve --print-config`: what a
 * person pastes into an issue or a log must not leak the API key, a signing secret, the S3
 * secret key or a database password.
 */
export function maskSecrets(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, maskValue(key, value)]));
}

function maskValue(key: string, value: unknown): unknown {
  if (value === undefined) return null;
  if (secretKeys.has(key)) return value === null ? null : mask;
  if (key === "databaseUrl" && typeof value === "string") return maskUrlPassword(value);
  if (value !== null && typeof value === "object" && !Array.isArray(value))
    return maskSecrets(value as Record<string, unknown>);
  return value;
}

/** postgres://user:secret@host/db → postgres://user:****@host/db; text that is not a URL is hidden whole. */
export function maskUrlPassword(text: string): string {
  if (!URL.canParse(text)) return mask;
  const url = new URL(text);
  if (url.password !== "") url.password = mask;
  // A password may also travel as a query parameter (libpq's ?password=).
  if (url.searchParams.has("password")) url.searchParams.set("password", mask);
  return url.toString();
}

/** One `name = value` line a setting, nested objects as dotted names. */
export function configText(config: Readonly<Record<string, unknown>>, prefix = ""): string {
  return Object.entries(config)
    .map(([key, value]) =>
      value !== null && typeof value === "object" && !Array.isArray(value)
        ? configText(value as Record<string, unknown>, `${prefix}${key}.`)
        : `${prefix}${key} = ${value === null ? "(not set)" : Array.isArray(value) ? value.join(", ") || "(none)" : String(value)}`,
    )
    .join("\n");
}
