/** A promise queue: `run` calls are executed one at a time, in the order they were made. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** One Mutex per key (a workspace): tasks on the same key run one at a time, other keys run alongside. */
export class KeyedMutex {
  readonly #locks = new Map<string, Mutex>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let lock = this.#locks.get(key);
    if (!lock) {
      lock = new Mutex();
      this.#locks.set(key, lock);
    }
    return lock.run(task);
  }
}
