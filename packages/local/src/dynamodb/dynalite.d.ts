declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** How long CreateTable takes to become ACTIVE; 0 for tests. */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** LevelDB directory; in memory when omitted. */
    path?: string;
  }

  export default function dynalite(options?: DynaliteOptions): Server;
}
