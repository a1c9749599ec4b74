/** JSON text read back from D1, parsed without throwing: a corrupt row is reported, not a crash. */
export type StoredJson = { ok: true; value: unknown } | { ok: false; error: string };

export function storedJson(text: string): StoredJson {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
