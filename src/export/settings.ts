/** `server.exports`: where evidence exports are written, how they are signed and kept. */
export interface ExportSettings {
  /** Directory of the archives and of each job's state (JSON); created if missing. */
  dir: string;
  /** Ed25519 private key in PEM (PKCS#8) that signs every manifest. */
  signingKeyPem: string;
  /** Seconds an export's files (and its record) are kept after it ends; default 86,400. */
  ttlSeconds: number;
  /**
   * When a source keeps failing during an export: false (default) fails the export; true
   * finishes it without that source's remaining events, marked INCOMPLETE in the manifest.
   */
  tolerateSourceFailure: boolean;
  /** Exports running at once, all callers together; default 2. */
  maxConcurrent: number;
  /** Times a failed source is read again from where it stopped before it counts as failed; default 2. */
  sourceRetries: number;
  /** zlib level of the archive's entries, 0 (stored) to 9; default 1 (fast: the data is JSON and compresses well anyway). */
  compressionLevel: number;
}

export const EXPORT_DEFAULTS = {
  ttlSeconds: 86_400,
  tolerateSourceFailure: false,
  maxConcurrent: 2,
  sourceRetries: 2,
  compressionLevel: 1,
} as const satisfies Partial<ExportSettings>;
