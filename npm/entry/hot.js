// The package's `Store`: the wasm Store plus a synchronous fast path for
// option reads that isolate memory already answers.
//
// Every call into wasm costs microseconds (passing the name, converting the
// answer to a JS object, the promise), which is hundreds of times a `Map`
// lookup. So for a registered option whose isolate-memory entry is fresh,
// the core hands over, with its answer, two non-enumerable properties taken
// in the same synchronous step: `freshUntil`, the moment the entry stops
// being fresh, and `freshAnswer`, what every read answers until then (a
// memory hit). That answer is kept here, frozen, and within that time
// `peekOption`, a `reader` and `getOption` give it without crossing into
// wasm. The core decides everything: what is fresh, for how long, what a
// read answers meanwhile, and every answer past that moment (stale, KV,
// origin, config, default). This file keeps no rules and shapes no answer:
// it only remembers the core's, and forgets a name when this store writes
// it or syncs.
import { Store as CoreStore } from "./edge_options.js";

/** Deep-freezes a kept answer so one object can be handed to every caller. */
function freeze(value) {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) freeze(value[key]);
    Object.freeze(value);
  }
  return value;
}

export class Store extends CoreStore {
  /** name → { answer, until }: answers of fresh isolate-memory entries. */
  #hot = new Map();
  /** Reads answered from `#hot`, added to `stats().hitsLocal`. */
  #hotHits = 0;
  /** Bumped by every write and sync: an answer read before one is not kept. */
  #writes = 0;

  /** The answer for `name` if the core's isolate memory holds it fresh at `now`, else undefined. */
  #lookup(name, now) {
    const kept = this.#hot.get(name);
    if (kept !== undefined && now < kept.until) {
      this.#hotHits++;
      return kept.answer;
    }
    return undefined;
  }

  /**
   * Keeps the core's answer for later reads (`answer.freshAnswer`) until the
   * moment it said its memory entry stops being fresh (`answer.freshUntil`),
   * unless this store wrote since the read began. Frozen: one object for
   * every caller.
   */
  #keep(name, answer, writes) {
    const until = answer.freshUntil;
    const hit = answer.freshAnswer;
    if (until === undefined || hit === undefined || writes !== this.#writes) return;
    this.#hot.set(name, { answer: freeze(hit), until });
  }

  #forget(name) {
    this.#writes++;
    this.#hot.delete(name);
  }

  peekOption(name) {
    return this.#lookup(name, Date.now());
  }

  reader(now = Date.now()) {
    return { get: (name) => this.#lookup(name, now) };
  }

  async getOption(name, ctx, options) {
    // A read asking for a version (`minVersion`) is the core's to decide.
    const hit = options?.minVersion == null ? this.#lookup(name, Date.now()) : undefined;
    if (hit !== undefined) return hit;
    const writes = this.#writes;
    const answer = await super.getOption(name, ctx, options);
    this.#keep(name, answer, writes);
    return answer;
  }

  async setOption(name, value) {
    this.#forget(name);
    try {
      return await super.setOption(name, value);
    } finally {
      this.#forget(name);
    }
  }

  async deleteOption(name) {
    this.#forget(name);
    try {
      return await super.deleteOption(name);
    } finally {
      this.#forget(name);
    }
  }

  async sync() {
    this.#writes++;
    this.#hot.clear();
    try {
      return await super.sync();
    } finally {
      this.#writes++;
      this.#hot.clear();
    }
  }

  stats() {
    const stats = super.stats();
    stats.hitsLocal += this.#hotHits;
    stats.hitsHot = this.#hotHits;
    return stats;
  }
}
