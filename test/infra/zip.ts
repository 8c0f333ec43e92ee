import { readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

const END_OF_CENTRAL_DIRECTORY = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const CENTRAL_DIRECTORY_HEADER = 0x02014b50;
const STORED = 0;
const DEFLATED = 8;

/**
 * Reads the files of a (non-zip64) zip archive, as the deployment package is, without a
 * dependency: the central directory lists each entry, its local header precedes the data.
 *
 * @throws Error when the archive is malformed or uses another compression method.
 */
export const readZip = async (path: string): Promise<Map<string, Buffer>> => {
  const zip = await readFile(path);
  const end = zip.lastIndexOf(END_OF_CENTRAL_DIRECTORY);
  if (end < 0) throw new Error(`${path}: no end-of-central-directory record`);
  const entryCount = zip.readUInt16LE(end + 10);
  let header = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let index = 0; index < entryCount; index += 1) {
    if (zip.readUInt32LE(header) !== CENTRAL_DIRECTORY_HEADER) {
      throw new Error(`${path}: entry ${index} has no central directory header`);
    }
    const method = zip.readUInt16LE(header + 10);
    const compressedSize = zip.readUInt32LE(header + 20);
    const nameLength = zip.readUInt16LE(header + 28);
    const extraLength = zip.readUInt16LE(header + 30);
    const commentLength = zip.readUInt16LE(header + 32);
    const localHeader = zip.readUInt32LE(header + 42);
    const name = zip.toString('utf8', header + 46, header + 46 + nameLength);
    const dataStart =
      localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    if (!name.endsWith('/')) {
      if (method === STORED) files.set(name, data);
      else if (method === DEFLATED) files.set(name, inflateRawSync(data));
      else throw new Error(`${path}: ${name} uses compression method ${method}`);
    }
    header += 46 + nameLength + extraLength + commentLength;
  }
  return files;
};
