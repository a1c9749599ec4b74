/**
 * The canary split: which arm (primary or canary) answers a request. An entity (the x-entity-id
 * header, or the policy's entity_field in the rows) is hashed with the model name into a bucket in
 * [0, 100), and goes to the canary when its bucket is below the percent: the same entity always
 * lands on the same arm, and raising the percent only moves entities from primary to canary. A
 * request without an entity is split at random.
 */

export type Arm = "primary" | "canary";

/** Longest entity id hashed; a longer header is refused rather than hashed in full on every request. */
export const MAX_ENTITY_LENGTH = 256;

/**
 * The request's entity: the header when present; else the entity field's value when every row
 * carries the same one (string or finite number, so 42 and "42" are one entity); else none. A
 * batch mixing entities cannot be sticky for all of them, so it is split at random per request.
 */
export function entityOf(rows: readonly unknown[], header: string | undefined, entityField: string | null): string | null {
  if (header !== undefined && header !== "") return header;
  if (entityField === null || rows.length === 0) return null;
  let shared: string | null = null;
  for (const row of rows) {
    const value = typeof row === "object" && row !== null ? (row as Record<string, unknown>)[entityField] : undefined;
    const text = typeof value === "string" && value !== "" ? value : typeof value === "number" && Number.isFinite(value) ? String(value) : null;
    if (text === null || (shared !== null && text !== shared)) return null;
    shared = text;
  }
  return shared;
}

/**
 * 32-bit FNV-1a over the UTF-8 bytes, then murmur3's fmix32 finaliser: FNV-1a alone mixes its last
 * bytes poorly into the high bits, so ids differing only in a trailing digit would cluster. The
 * bytes are produced inline (no TextEncoder allocation): ~0.1 µs for a short id, where SHA-256
 * through crypto.subtle costs ~40 µs.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193);
    } else {
      const next = text.charCodeAt(i + 1);
      if (c >= 0xd800 && c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (c >> 18)), 0x01000193);
        h = Math.imul(h ^ (0x80 | ((c >> 12) & 63)), 0x01000193);
      } else {
        // A lone surrogate is encoded as U+FFFD, as TextEncoder does.
        if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
        h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
      }
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 63)), 0x01000193);
    }
    h = Math.imul(h ^ (0x80 | (c & 63)), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The entity's bucket in [0, 100) for this model. */
export function bucketOf(model: string, entity: string): number {
  return (hash32(`${model}\u0000${entity}`) / 2 ** 32) * 100;
}

/** Primary or canary for one request; `random` in [0, 1) is used only when there is no entity. */
export function chooseArm(model: string, canaryPercent: number, entity: string | null, random: () => number = randomUnit): Arm {
  if (canaryPercent <= 0) return "primary";
  if (canaryPercent >= 100) return "canary";
  const bucket = entity === null ? random() * 100 : bucketOf(model, entity);
  return bucket < canaryPercent ? "canary" : "primary";
}

/**
 * Uniform in [0, 1). Math.random, not the CSPRNG: nothing depends on the split being unpredictable,
 * and crypto.getRandomValues costs ~10 µs a call in V8 against ~10 ns.
 */
export function randomUnit(): number {
  return Math.random();
}
