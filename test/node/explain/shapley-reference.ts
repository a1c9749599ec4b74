/**
 * Shapley values by the textbook formula, for checking the explainers: every coalition S of the
 * players, φ_i = Σ_{S ∌ i} |S|! (F - |S| - 1)! / F! · (v(S ∪ {i}) - v(S)). Exponential in F, so
 * only for small games.
 */
export function shapleyValues(players: number, value: (coalition: number) => number): number[] {
  if (players > 16) throw new RangeError(`${players} players: the textbook formula is for small games`);
  const v = Float64Array.from({ length: 1 << players }, (_, s) => value(s));
  const factorial = [1];
  for (let i = 1; i <= players; i++) factorial.push(factorial[i - 1]! * i);
  const phi = new Array<number>(players).fill(0);
  for (let s = 0; s < 1 << players; s++) {
    const size = popcount(s);
    const weight = (factorial[size]! * factorial[players - size - 1]!) / factorial[players]!;
    for (let i = 0; i < players; i++) if (!(s & (1 << i))) phi[i]! += weight * (v[s | (1 << i)]! - v[s]!);
  }
  return phi;
}

function popcount(s: number): number {
  let n = 0;
  for (; s; s &= s - 1) n++;
  return n;
}
