/**
 * Bearer tokens for routes guarded by an optional secret (METRICS_TOKEN): the header's token, and a
 * constant-time comparison. The admin guard (registry/admin-auth.ts) has its own copy of the same
 * comparison, kept private there.
 */

/** The bearer token; null for a header in another scheme (treated as missing), undefined with no header. */
export function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match ? match[1]! : null;
}

/**
 * Hashing first gives both sides 32 bytes, so timingSafeEqual (which throws on unequal lengths)
 * always runs and the time taken says nothing about the token's length or content.
 */
export async function tokensEqual(presented: string, expected: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([presented, expected].map((t) => crypto.subtle.digest("SHA-256", encoder.encode(t))));
  return crypto.subtle.timingSafeEqual(a!, b!);
}
