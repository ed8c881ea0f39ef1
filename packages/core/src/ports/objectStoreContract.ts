import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorName } from '../errors/index.js';
import type { ObjectStore } from './ObjectStore.js';

/** Collects a whole listing's keys and sizes (test support only; the port never does this). */
const listAll = async (store: ObjectStore, prefix: string) => {
  const objects = [];
  for await (const { key, size } of store.list(prefix)) objects.push({ key, size });
  return objects;
};

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

/**
 * The behaviour every {@link ObjectStore} adapter must show, as a vitest suite.
 *
 * Each test works under its own random prefix, so the suite can share a bucket with other suites.
 * The factory is called once, in the suite's `beforeAll`, after any outer `beforeAll` that starts
 * the backing service.
 *
 * @param name - the adapter and backend, for the suite's title
 * @param factory - returns the store under test
 * @example
 * describe.each([['S3ObjectStore on s3rver', () => store]])('%s', (name, factory) => {
 *   objectStoreContract(name, factory);
 * });
 */
export const objectStoreContract = (
  name: string,
  factory: () => ObjectStore | Promise<ObjectStore>
): void => {
  describe(`Contract: ObjectStore (${name})`, () => {
    let store: ObjectStore;
    let dir: string;
    const root = `contract-${randomUUID()}`;

    beforeAll(async () => {
      store = await factory();
      dir = await mkdtemp(join(tmpdir(), 'strata-object-store-contract-'));
    });

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('returns undefined for a missing key', async () => {
      // Act
      const body = await store.get(`${root}/missing/nothing.json`);

      // Assess
      expect(body).toBeUndefined();
    });

    it('round-trips a string and arbitrary bytes through put and get', async () => {
      // Prepare
      const bytes = new Uint8Array([0, 255, 1, 128, 10, 13, 0]);

      // Act
      await store.put(`${root}/rt/text.json`, '{"a":"é"}', 'application/json');
      await store.put(`${root}/rt/bytes.bin`, bytes);

      // Assess
      expect(text(await store.get(`${root}/rt/text.json`))).toBe('{"a":"é"}');
      expect(await store.get(`${root}/rt/bytes.bin`)).toEqual(bytes);
    });

    it('round-trips an empty object', async () => {
      // Act
      await store.put(`${root}/rt/empty`, '');

      // Assess
      expect(await store.get(`${root}/rt/empty`)).toEqual(new Uint8Array());
    });

    it('replaces the whole object on a second put', async () => {
      // Prepare
      const key = `${root}/overwrite/o.txt`;
      await store.put(key, 'a much longer first version');

      // Act
      await store.put(key, 'v2');

      // Assess
      expect(text(await store.get(key))).toBe('v2');
    });

    it('writes with putIfMatch only over the version it names, and tags each version', async () => {
      // Prepare
      const key = `${root}/cas/registry.json`;
      const created = await store.putIfMatch(key, 'v1', undefined);
      const read = await store.getTagged(key);

      // Act
      const stale = await store.putIfMatch(key, 'stale', 'not-the-etag');
      const recreate = await store.putIfMatch(key, 'again', undefined);
      const next = await store.putIfMatch(key, 'v2', read?.etag);
      const lost = await store.putIfMatch(key, 'lost update', read?.etag);

      // Assess
      expect(created).toBe(read?.etag);
      expect(text(read?.body)).toBe('v1');
      expect([stale, recreate, lost]).toEqual([undefined, undefined, undefined]);
      expect(next).toBeDefined();
      expect(next).not.toBe(read?.etag);
      expect(await store.getTagged(key)).toEqual({
        body: new TextEncoder().encode('v2'),
        etag: next,
      });
    });

    it('lets one of many racing putIfMatch calls on one version win', async () => {
      // Prepare
      const key = `${root}/cas/race.json`;
      const etag = await store.putIfMatch(key, 'v1', undefined);

      // Act
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.putIfMatch(key, `writer ${i}`, etag))
      );

      // Assess
      const winners = outcomes.flatMap((tag, i) => (tag === undefined ? [] : [i]));
      expect(winners).toHaveLength(1);
      expect(text(await store.get(key))).toBe(`writer ${winners[0]}`);
    });

    it('answers putIfMatch on a missing key with a tag as a lost race', async () => {
      // Act
      const tag = await store.putIfMatch(`${root}/cas/deleted.json`, 'v1', '"0123"');

      // Assess
      expect(tag).toBeUndefined();
      expect(await store.get(`${root}/cas/deleted.json`)).toBeUndefined();
    });

    it('shows a read during a put the whole old object or the whole new one', async () => {
      // Prepare
      const key = `${root}/atomic/object.bin`;
      const [before, after] = [randomBytes(4 * 1024 * 1024), randomBytes(4 * 1024 * 1024)];
      await store.put(key, before);

      // Act
      const [, ...reads] = await Promise.all([
        store.put(key, after),
        ...Array.from({ length: 4 }, () => store.get(key)),
      ]);

      // Assess
      for (const read of reads) {
        expect([before, after].some((whole) => whole.equals(read ?? new Uint8Array()))).toBe(true);
      }
    });

    it('round-trips a multi-part-sized file byte for byte through upload and download', async () => {
      // Prepare: over lib-storage's 5 MiB default part size, so the upload takes two parts.
      const size = 6 * 1024 * 1024 + 123;
      const original = randomBytes(size);
      const source = join(dir, 'source.bin');
      const target = join(dir, 'target.bin');
      await writeFile(source, original);
      const key = `${root}/files/big.bin`;

      // Act
      await store.upload(key, source, 'application/octet-stream');
      await store.download(key, target);

      // Assess
      const copy = await readFile(target);
      expect(copy.length).toBe(size);
      expect(copy.equals(original)).toBe(true);
      expect(await listAll(store, `${root}/files/`)).toEqual([{ key, size }]);
    });

    it('downloads byte ranges, an end past the object cut at its end', async () => {
      // Prepare
      const bytes = randomBytes(10_000);
      const key = `${root}/files/ranged.bin`;
      await store.put(key, new Uint8Array(bytes));
      const ranged = async (range: readonly [number, number]) => {
        const target = join(dir, `range-${range.join('-')}.bin`);
        await store.download(key, target, range);
        return readFile(target);
      };

      // Act
      const [head, tail, none] = await Promise.all([
        ranged([0, 10]),
        ranged([9_990, 20_000]),
        ranged([500, 500]),
      ]);

      // Assess
      expect(head.equals(bytes.subarray(0, 10))).toBe(true);
      expect(tail.equals(bytes.subarray(9_990))).toBe(true);
      expect(none.length).toBe(0);
    });

    it('throws Strata.BadInput when downloading a missing key', async () => {
      // Act
      const act = store.download(`${root}/files/missing.bin`, join(dir, 'never.bin'));

      // Assess
      await expect(act).rejects.toMatchObject({ name: ErrorName.BadInput });
    });

    it('copies an object byte for byte, replacing the target and keeping the source', async () => {
      // Prepare
      const bytes = new Uint8Array(randomBytes(70_000));
      await store.put(`${root}/copy/source.bin`, bytes);
      await store.put(`${root}/copy/target.bin`, 'an older, longer target object');

      // Act
      await store.copy(`${root}/copy/source.bin`, `${root}/copy/target.bin`);

      // Assess
      expect(await store.get(`${root}/copy/target.bin`)).toEqual(bytes);
      expect(await store.get(`${root}/copy/source.bin`)).toEqual(bytes);
    });

    it('copies between keys with spaces, +, =, %, ? and non-ASCII characters', async () => {
      // Prepare: each character means something else in a URL if it is not encoded
      const keys = [
        `${root}/awkward/a+b c=1%é.jsonl`,
        `${root}/awkward/100%25 sure?x=1&y=2#top.json`,
        `${root}/awkward/データ/ünï cødé+.json.gz`,
      ];
      const copyOf = (key: string) => key.replace('/awkward/', '/awkward copy+=é/');
      for (const [i, key] of keys.entries()) await store.put(key, `body ${i}`);

      // Act
      for (const key of keys) await store.copy(key, copyOf(key));

      // Assess
      for (const [i, key] of keys.entries()) {
        expect(text(await store.get(copyOf(key)))).toBe(`body ${i}`);
      }
    });

    it('throws Strata.BadInput when copying a missing key, and writes nothing', async () => {
      // Act
      const act = store.copy(`${root}/copy/missing.bin`, `${root}/copy/never.bin`);

      // Assess
      await expect(act).rejects.toMatchObject({ name: ErrorName.BadInput });
      expect(await store.get(`${root}/copy/never.bin`)).toBeUndefined();
    });

    it('lists exactly the keys under a prefix, with their sizes', async () => {
      // Prepare
      const base = `${root}/list`;
      await Promise.all([
        store.put(`${base}/a/1.txt`, 'x'),
        store.put(`${base}/a/deep/2.txt`, 'yy'),
        store.put(`${base}/ab/3.txt`, 'zzz'),
        store.put(`${base}/b/4.txt`, 'w'),
      ]);

      // Act
      const listed = await listAll(store, `${base}/a/`);

      // Assess
      expect(listed.sort((x, y) => x.key.localeCompare(y.key))).toEqual([
        { key: `${base}/a/1.txt`, size: 1 },
        { key: `${base}/a/deep/2.txt`, size: 2 },
      ]);
      expect(await listAll(store, `${base}/none/`)).toEqual([]);
    });

    it('dates a listed object no earlier than the second before it was written, if at all', async () => {
      // Prepare
      const before = Date.now();
      await store.put(`${root}/dated/1.txt`, 'x');

      // Act
      const listed = [];
      for await (const object of store.list(`${root}/dated/`)) listed.push(object);

      // Assess: S3 dates to the second
      const when = listed[0]?.lastModified;
      if (when !== undefined) {
        expect(when.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
        expect(when.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      }
      expect(listed.map((object) => object.key)).toEqual([`${root}/dated/1.txt`]);
    });

    it('pages past 1,000 keys when listing and deletes more than 1,000 keys at once', async () => {
      // Prepare
      const base = `${root}/many`;
      const keys = Array.from({ length: 1005 }, (_, i) => `${base}/${String(i).padStart(4, '0')}`);
      for (let start = 0; start < keys.length; start += 100) {
        await Promise.all(keys.slice(start, start + 100).map((key) => store.put(key, 'x')));
      }

      // Act
      const listed = await listAll(store, `${base}/`);
      await store.delete(keys);

      // Assess
      expect(listed.map((object) => object.key).sort()).toEqual(keys);
      expect(await listAll(store, `${base}/`)).toEqual([]);
    });

    it('deletes the given keys only and accepts missing keys', async () => {
      // Prepare
      const base = `${root}/delete`;
      await store.put(`${base}/gone`, 'x');
      await store.put(`${base}/kept`, 'y');

      // Act
      await store.delete([`${base}/gone`, `${base}/never-existed`]);
      await store.delete([]);

      // Assess
      expect(await store.get(`${base}/gone`)).toBeUndefined();
      expect(text(await store.get(`${base}/kept`))).toBe('y');
      expect((await listAll(store, `${base}/`)).map((object) => object.key)).toEqual([
        `${base}/kept`,
      ]);
    });
  });
};
