import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { weekPrefix } from '@strata/core/plan-backlog';
import type { ObjectStore } from '@strata/core/ports';

/** What the generator wrote, so tests can reconcile the backfill against the truth. */
export interface GeneratedBacklog {
  objects: GeneratedObject[];
  bytes: number;
  /** Well-formed records across all objects. */
  records: number;
  /** Lines or documents that are not valid JSON, and objects that cannot be read at all. */
  malformed: number;
}

export interface GeneratedObject {
  key: string;
  bytes: number;
  records: number;
  malformed: number;
  format: 'jsonl' | 'array' | 'document';
  gzip: boolean;
}

export interface GenerateBacklogOptions {
  store: ObjectStore;
  /** Total raw bytes to aim for (before gzip), spread over the feeds. */
  targetBytes: number;
  seed?: number;
  /**
   * Feeds to write; each gets `raw/<feed>/all_historical_files/` and weekly drops under
   * `raw/<feed>/<ISO year>/week<NN>/`.
   */
  feeds?: readonly string[];
  /**
   * What a typical object holds, before gzip (default about 45 KiB, many small drops); every
   * twentieth object is sixteen times larger. 9 TB in 2,000,000 objects is some 4.5 MiB each.
   */
  objectBytes?: number;
}

/** A typical object's raw size unless told otherwise: about 125 events. */
const SMALL_OBJECT_BYTES = 45 * 1024;
/** An event's serialized size, roughly, to turn object bytes into events. */
const EVENT_BYTES = 360;

/** The feeds the generator writes unless told otherwise. */
export const BACKLOG_FEEDS = ['clickstream', 'payments', 'devices'] as const;

/** A small, seedable PRNG (mulberry32): the same seed writes the same backlog. */
const prng = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const MODES = ['web', 'ios', 'android', 'kiosk'] as const;

/**
 * One nested event. The shape drifts with `generation` as a real feed's does: later
 * generations add fields (`device.os.version`, `experiments`), one changes a type
 * (`amount`: integer → float → sometimes the string "N/A"), and optional fields go missing.
 */
const event = (random: () => number, feed: string, id: number, day: Date, generation: number) => {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const at = new Date(day.getTime() + Math.floor(random() * 86_400_000));
  const amount =
    generation === 0
      ? Math.floor(random() * 500)
      : generation === 1 || random() > 0.02
        ? Math.round(random() * 50_000) / 100
        : 'N/A';
  return {
    event_id: `${feed}-${id}`,
    DATE: at.toISOString().slice(0, 10),
    MODE: pick(MODES),
    timestamp: at.toISOString(),
    user: {
      id: Math.floor(random() * 100_000),
      ...(random() > 0.1 ? { email: `user${Math.floor(random() * 1e6)}@example.com` } : {}),
      address: {
        city: pick(['Lisbon', 'Osaka', 'Lagos', 'Lima']),
        geo: { lat: random() * 90, lon: random() * 180 },
      },
    },
    payload: {
      amount,
      items: Array.from({ length: Math.floor(random() * 4) }, (_, i) => ({
        sku: `SKU-${i}`,
        qty: 1 + Math.floor(random() * 3),
      })),
    },
    device: {
      type: pick(['phone', 'desktop', 'tablet']),
      ...(generation >= 1
        ? {
            os: {
              name: pick(['ios', 'android', 'linux']),
              ...(generation >= 2 ? { version: `${1 + Math.floor(random() * 17)}.0` } : {}),
            },
          }
        : {}),
    },
    ...(generation >= 2 ? { experiments: [pick(['a', 'b']), pick(['x', 'y'])] } : {}),
  };
};

/**
 * Writes a realistic nested-JSON backlog into the lake: several feeds, each with historical
 * files and weekly drops; JSON lines, JSON arrays and one-document files; some gzipped; schema
 * drift across generations; a few malformed lines, a truncated gzip and an empty file; a few
 * large files. Everything derives from the seed, and the result says exactly what was written.
 *
 * @param options - where, how much, which seed
 */
export const generateBacklog = async (
  options: GenerateBacklogOptions
): Promise<GeneratedBacklog> => {
  const random = prng(options.seed ?? 7);
  const feeds = options.feeds ?? BACKLOG_FEEDS;
  const perFeed = options.targetBytes / feeds.length;
  const result: GeneratedBacklog = { objects: [], bytes: 0, records: 0, malformed: 0 };
  let id = 0;
  const typical = (options.objectBytes ?? SMALL_OBJECT_BYTES) / EVENT_BYTES;

  const write = async (object: Omit<GeneratedObject, 'bytes'>, body: Buffer) => {
    await options.store.put(object.key, body);
    result.objects.push({ ...object, bytes: body.length });
    result.bytes += body.length;
    result.records += object.records;
    result.malformed += object.malformed;
  };

  for (const feed of feeds) {
    let written = 0;
    for (let file = 0; written < perFeed; file++) {
      // The schema drifts as the feed grows: generation 0 for its first sixth, 1 for the
      // second, 2 from a third on (one large file can overshoot the target, so drift starts early).
      const generation = written < perFeed / 6 ? 0 : written < perFeed / 3 ? 1 : 2;
      const day = new Date(Date.UTC(2023, 0, 1) + file * 86_400_000 * 3);
      // Every 20th file is large; the rest vary around the typical size, as real drops do.
      const count = Math.max(
        1,
        Math.round(typical * (file % 20 === 19 ? 16 : 0.4 + random() * 1.2))
      );
      const events = Array.from({ length: count }, () =>
        event(random, feed, id++, day, generation)
      );
      // Every tenth file is a weekly drop, in the folder of its date's ISO week, as a weekly
      // sync scheduled after that week expects to find it.
      const weekly = file % 10 === 9;
      const folder = weekly ? weekPrefix(feed, day) : `raw/${feed}/all_historical_files/`;
      const format = file % 7 === 3 ? 'array' : file % 11 === 5 ? 'document' : 'jsonl';
      const gzip = file % 4 === 1;
      let malformed = 0;
      let records = events.length;
      let text: string;
      if (format === 'array') text = JSON.stringify(events);
      else if (format === 'document') {
        text = JSON.stringify(events[0]);
        records = 1;
      } else {
        const lines = events.map((e) => JSON.stringify(e));
        // One in five line-delimited files has a broken line in the middle.
        if (file % 5 === 2) {
          lines.splice(Math.floor(lines.length / 2), 0, '{"event_id": "broken", "user": {');
          malformed = 1;
        }
        text = `${lines.join('\n')}\n`;
      }
      const raw = Buffer.from(text);
      const name = `${folder}${feed}-${String(file).padStart(5, '0')}.${format === 'jsonl' ? 'jsonl' : 'json'}${gzip ? '.gz' : ''}`;
      await write({ key: name, records, malformed, format, gzip }, gzip ? gzipSync(raw) : raw);
      written += raw.length;
    }
    // Damage no reader can repair: a truncated gzip (its records are lost to quarantine) and an empty file.
    const truncated = gzipSync(
      Buffer.from(
        `${JSON.stringify(event(random, feed, id++, new Date(Date.UTC(2024, 0, 1)), 2))}\n`
      )
    );
    await write(
      {
        key: `raw/${feed}/all_historical_files/${feed}-truncated.jsonl.gz`,
        records: 0,
        malformed: 1,
        format: 'jsonl',
        gzip: true,
      },
      truncated.subarray(0, Math.floor(truncated.length / 2))
    );
    await write(
      {
        key: `raw/${feed}/all_historical_files/${feed}-empty.jsonl`,
        records: 0,
        malformed: 0,
        format: 'jsonl',
        gzip: false,
      },
      Buffer.alloc(0)
    );
  }
  return result;
};

export interface EventLinesOptions {
  /** The local file to write. */
  path: string;
  /** Bytes to aim for; the file ends at the first line that reaches them. */
  targetBytes: number;
  seed?: number;
  feed?: string;
  /** Days the events spread over from 2024-01-01, in order (default 7: one weekly drop). */
  days?: number;
}

/** What {@link writeEventLines} wrote. */
export interface EventLines {
  bytes: number;
  records: number;
}

/** Lines go to disk in chunks of this many, waiting for the stream to drain between them. */
const LINES_PER_CHUNK = 1_000;

/**
 * Streams one large JSON-lines file of the backlog's nested events straight to disk, never
 * holding more than one chunk of lines: the drift runs through the file as it does through a
 * feed (generation 0 for its first sixth, 1 up to a third, 2 after), and the events' days
 * advance through `days` so the file covers a few partitions, as a weekly drop does.
 *
 * @example
 * await writeEventLines({ path: '/tmp/big.jsonl', targetBytes: 1024 ** 3 }); // { bytes, records }
 * @param options - where, how much, which seed and feed
 */
export const writeEventLines = async (options: EventLinesOptions): Promise<EventLines> => {
  const random = prng(options.seed ?? 7);
  const feed = options.feed ?? 'clickstream';
  const days = options.days ?? 7;
  const out = createWriteStream(options.path);
  let bytes = 0;
  let records = 0;
  try {
    while (bytes < options.targetBytes) {
      let chunk = '';
      for (let i = 0; i < LINES_PER_CHUNK && bytes < options.targetBytes; i++) {
        const progress = bytes / options.targetBytes;
        const generation = progress < 1 / 6 ? 0 : progress < 1 / 3 ? 1 : 2;
        const day = new Date(Date.UTC(2024, 0, 1) + Math.floor(progress * days) * 86_400_000);
        const line = `${JSON.stringify(event(random, feed, records++, day, generation))}\n`;
        bytes += Buffer.byteLength(line);
        chunk += line;
      }
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } finally {
    out.destroy();
  }
  return { bytes, records };
};
