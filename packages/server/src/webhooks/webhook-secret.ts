import { InvalidWebhookConfigError } from "@cleancut/core";

const prefix = "whsec_";

/**
 * The signing key of a Standard Webhooks secret `whsec_<base64>`: the bytes the base64 after
 * the prefix decodes to (receivers' libraries decode it the same way). At least 16 bytes, so a
 * typo'd or truncated secret fails at start-up rather than signing with a weak key.
 */
export function parseWebhookSecret(secret: string): Buffer {
  const encoded = secret.startsWith(prefix) ? secret.slice(prefix.length) : undefined;
  if (encoded === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw new InvalidWebhookConfigError(
      "the webhook secret must look like whsec_<base64>, e.g. whsec_$(openssl rand -base64 32)",
    );
  }
  const key = Buffer.from(encoded, "base64");
  if (key.length < 16) {
    throw new InvalidWebhookConfigError(`the webhook secret decodes to ${key.length} bytes; use at least 16`);
  }
  return key;
}
