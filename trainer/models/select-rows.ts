import type { Matrix } from "./types";

/** The given rows of a design matrix, in the given order. */
export function selectMatrixRows(X: Matrix, rows: Int32Array): Matrix {
  const data = new Float32Array(rows.length * X.cols);
  for (let i = 0; i < rows.length; i++) data.set(X.data.subarray(rows[i]! * X.cols, (rows[i]! + 1) * X.cols), i * X.cols);
  return { data, rows: rows.length, cols: X.cols };
}

/** The given rows of a design matrix and its labels. */
export function selectLabelledRows<T extends { X: Matrix; y: Uint8Array }>({ X, y }: T, rows: Int32Array): { X: Matrix; y: Uint8Array } {
  return { X: selectMatrixRows(X, rows), y: Uint8Array.from(rows, (i) => y[i]!) };
}
