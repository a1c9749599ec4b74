/** Deterministic scores in [0, 1) (Park–Miller), so every benchmark run measures the same data; shared by the Node side and the workerd probe. */
export function parkMillerScores(n: number, seed = 12345): Float32Array {
  const out = new Float32Array(n);
  let state = seed;
  for (let i = 0; i < n; i++) {
    state = (state * 48271) % 2147483647;
    out[i] = state / 2147483647;
  }
  return out;
}
