import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';

/** The files of a bundle, read from its archive or from a directory it was extracted into. */
export interface BundleReader {
  /** Names of the files it holds, in the archive's order (a directory's: sorted). */
  readonly names: readonly string[];
  /** A file's bytes as a stream. */
  open(name: string): Promise<Readable>;
  close(): void;
}

/** Why a path cannot be read as a bundle; `damaged` when it is an archive whose structure is broken. */
export class BundleUnreadable extends Error {
  constructor(
    message: string,
    readonly damaged: boolean,
  ) {
    super(message);
    this.name = 'BundleUnreadable';
  }
}

/** The first bytes of a zip file: a local file header. */
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** The signature of a zip's end of central directory record, within its last 64 KiB + 22 bytes. */
const END_MAGIC = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const END_SEARCH = 65_557;

/**
 * Opens `target`: a directory holding the bundle's files, or the zip archive the gateway serves.
 * Throws {@link BundleUnreadable} when it is neither; an archive that starts like a zip but cannot
 * be read is `damaged` (a changed byte in its structure), anything else is unusable input.
 */
export async function openBundle(target: string): Promise<BundleReader> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(target);
  } catch (error) {
    throw new BundleUnreadable(`cannot read '${target}': ${(error as NodeJS.ErrnoException).code ?? 'error'}`, false);
  }
  if (stat.isDirectory()) return directoryBundle(target);
  if (!stat.isFile()) throw new BundleUnreadable(`'${target}' is neither a file nor a directory`, false);
  return zipBundle(target);
}

async function startsOrEndsLikeZip(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    if (head.equals(ZIP_MAGIC)) return true;
    const length = Math.min(size, END_SEARCH);
    const tail = Buffer.alloc(length);
    await handle.read(tail, 0, length, size - length);
    return tail.includes(END_MAGIC);
  } finally {
    await handle.close();
  }
}

async function directoryBundle(dir: string): Promise<BundleReader> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isFile()).map((entry) => entry.name).sort();
  return {
    names,
    open: async (name) => fs.createReadStream(path.join(dir, name)),
    close: () => undefined,
  };
}

async function zipBundle(file: string): Promise<BundleReader> {
  // A zip with one changed byte still starts or ends like one: that is a damaged archive, not
  // some other kind of file.
  const looksLikeZip = await startsOrEndsLikeZip(file);
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true });
  } catch (error) {
    throw new BundleUnreadable(looksLikeZip ? `the archive's structure is damaged (${(error as Error).message})` : `'${file}' is not a zip archive or a directory`, looksLikeZip);
  }
  const entries = new Map<string, yauzl.Entry>();
  const names: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      // A second entry of the same name would let a reader see other bytes than the verifier did.
      if (entries.has(entry.fileName)) throw new Error(`the archive holds '${entry.fileName}' twice`);
      entries.set(entry.fileName, entry);
      names.push(entry.fileName);
    }
  } catch (error) {
    zip.close();
    throw new BundleUnreadable(`the archive's directory is damaged (${(error as Error).message})`, true);
  }
  return {
    names,
    open: async (name) => {
      const entry = entries.get(name);
      if (!entry) throw new Error(`no '${name}' in the archive`);
      return zip.openReadStreamPromise(entry);
    },
    close: () => zip.close(),
  };
}
