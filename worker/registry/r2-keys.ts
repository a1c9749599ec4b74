/** The one place R2 object keys are made. Layout: models/<name>/<version>/<file>. */
export const ARTIFACT_FILES = ["model.onnx", "manifest.json", "model-card.md", "reference.json", "explainer.json"] as const;
export type ArtifactFile = (typeof ARTIFACT_FILES)[number];

export function artifactKey(modelName: string, version: number, file: ArtifactFile): string {
  return `models/${encodeURIComponent(modelName)}/${version}/${file}`;
}
